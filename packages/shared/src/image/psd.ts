// PSD/PSB decoding: the composite image, or the visible layers composited onto white where it is missing.
import { initializeCanvas, readPsd, type Layer, type PixelData, type Psd } from 'ag-psd';
import type { RgbImage } from '../engine/types';
import { DecodeError, FLATTEN_BACKGROUND } from './decode-error';

export interface PsdDecodeOptions {
  maxPixels: number;
}

// ag-psd allocates 8-bit RGBA buffers through a canvas even with useImageData; plain arrays do the job in
// Node. Nothing here needs a real canvas (thumbnails, which would, are skipped).
initializeCanvas(
  (width, height) => {
    throw new Error(`ag-psd asked for a ${width}×${height} canvas, which is not available in Node`);
  },
  (width, height) => ({ width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: 'srgb' }),
);

/** Width and height from the 26-byte header, so oversized documents are refused before any pixel work. */
function readHeader(buf: Uint8Array): { width: number; height: number } {
  if (buf.length < 26) throw new DecodeError('truncated PSD: header is incomplete');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { height: view.getUint32(14), width: view.getUint32(18) };
}

export function decodePsd(buf: Uint8Array, opts: PsdDecodeOptions): RgbImage {
  const { width, height } = readHeader(buf);
  if (width === 0 || height === 0) throw new DecodeError(`PSD has an empty canvas (${width}×${height})`);
  if (width * height > opts.maxPixels) {
    throw new DecodeError(`image is ${width}×${height}, over the ${opts.maxPixels}-pixel limit`);
  }
  // useImageData keeps pixels as arrays: no canvas implementation is needed in Node.
  const base = { useImageData: true, skipThumbnail: true, skipLinkedFilesData: true } as const;
  // Layers are only read when the composite turns out to be unusable: most PSDs carry a good one.
  let flat: Psd | undefined;
  let compositeError: unknown;
  try {
    flat = readPsd(buf, { ...base, skipLayerImageData: true });
    if (flat.imageData && !isBlank(flat.imageData)) return flattenOntoWhite(flat.imageData, flat.width, flat.height);
  } catch (err) {
    // An unreadable composite may still leave readable layers; if those fail too, this is the reason given.
    compositeError = err;
  }
  let layered: Psd;
  try {
    layered = readPsd(buf, { ...base, skipCompositeImageData: true });
  } catch (err) {
    throw compositeError ?? err;
  }
  if (hasPixels(layered.children)) return compositeLayers(layered);
  if (flat?.imageData) return flattenOntoWhite(flat.imageData, flat.width, flat.height);
  if (compositeError) throw compositeError;
  throw new DecodeError('PSD has neither a composite image nor visible layer pixels');
}

/** 8-bit value of one sample whatever the document depth (8, 16 or 32-bit float, which is linear light). */
function sampleReader(data: PixelData['data']): (i: number) => number {
  if (data instanceof Uint16Array) return (i) => data[i]! / 257;
  if (data instanceof Float32Array) {
    return (i) => {
      const v = Math.min(1, Math.max(0, data[i]!));
      return 255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
    };
  }
  return (i) => data[i]!;
}

/**
 * A composite is unusable when nothing is visible or it is one flat colour: writers that skip it leave it
 * opaque black (ag-psd), white or transparent. A genuinely flat picture holds no face either way, and its
 * layers (if any) then give the same picture.
 */
export function isBlank(img: PixelData): boolean {
  const { data } = img;
  let allTransparent = true;
  const [r, g, b, a] = [data[0], data[1], data[2], data[3]];
  let uniform = true;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] !== 0) allTransparent = false;
    if (uniform && (data[i] !== r || data[i + 1] !== g || data[i + 2] !== b || data[i + 3] !== a)) uniform = false;
    if (!allTransparent && !uniform) return false;
  }
  return true;
}

function hasPixels(layers: Layer[] | undefined): boolean {
  return (layers ?? []).some((l) => !l.hidden && (l.imageData !== undefined || hasPixels(l.children)));
}

function flattenOntoWhite(img: PixelData, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const read = sampleReader(img.data);
  const bg = [FLATTEN_BACKGROUND.r, FLATTEN_BACKGROUND.g, FLATTEN_BACKGROUND.b];
  const n = Math.min(width * height, img.width * img.height);
  for (let p = 0; p < n; p++) {
    const a = read(p * 4 + 3) / 255;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = read(p * 4 + c) * a + bg[c]! * (1 - a) + 0.5;
  }
  return { data: out, width, height };
}

/**
 * Normal blending of the visible layers, bottom to top, onto a white canvas: each layer at its left/top,
 * scaled by its opacity times its groups' opacities; hidden layers and hidden groups are skipped.
 * Other blend modes, masks and effects are drawn as normal: good enough to find and embed faces.
 */
function compositeLayers(psd: Psd): RgbImage {
  const { width, height } = psd;
  const acc = new Float32Array(width * height * 3).fill(255);
  const draw = (layers: Layer[], parentOpacity: number): void => {
    // ag-psd lists children bottom-most first.
    for (const layer of layers) {
      if (layer.hidden) continue;
      const opacity = parentOpacity * (layer.opacity ?? 1);
      if (layer.children) {
        draw(layer.children, opacity);
        continue;
      }
      const img = layer.imageData;
      if (!img || opacity <= 0) continue;
      const read = sampleReader(img.data);
      const left = layer.left ?? 0, top = layer.top ?? 0;
      for (let y = Math.max(0, -top); y < img.height && top + y < height; y++) {
        for (let x = Math.max(0, -left); x < img.width && left + x < width; x++) {
          const s = (y * img.width + x) * 4;
          const a = (read(s + 3) / 255) * opacity;
          if (a <= 0) continue;
          const d = ((top + y) * width + left + x) * 3;
          acc[d] = acc[d]! * (1 - a) + read(s) * a;
          acc[d + 1] = acc[d + 1]! * (1 - a) + read(s + 1) * a;
          acc[d + 2] = acc[d + 2]! * (1 - a) + read(s + 2) * a;
        }
      }
    }
  };
  draw(psd.children ?? [], 1);
  const out = new Uint8Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]! + 0.5;
  return { data: out, width, height };
}
