// The pixels of one image file as the engine reads them: whole at the scales the detector needs, full resolution
// only around faces. Large JPEGs are decoded at the detector's scale (libvips shrink-on-load) and read at full
// resolution region by region; everything else is decoded whole once, as before.
import sharp, { type Sharp } from 'sharp';
import type { ImageFormat, RgbImage } from '../engine/types';
import { decodeImageBuffer, DecodeError, FLATTEN_BACKGROUND, sniffFormat, type DecodeOptions } from './decode';
import { resizeRgb } from './resample';

/** Integer source rectangle [x, x + width) × [y, y + height), after EXIF orientation. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Pixels of part of the image, at full resolution or a scaled view: source point (sx, sy) is point
 * ((sx − x)·scaleX, (sy − y)·scaleY) of `img` (pixel edges on integers, as the detector's boxes).
 */
export interface Pixels {
  img: RgbImage;
  x: number;
  y: number;
  scaleX: number;
  scaleY: number;
}

/** A rectangle whose pixels a later step reads, and the least scale (view px per source px) it needs them at. */
export interface PixelRequest {
  rect: Rect;
  minScale: number;
}

/** Source point → point of the pixels' image. */
export function toView(p: Pixels, [x, y]: readonly [number, number]): [number, number] {
  return [(x - p.x) * p.scaleX, (y - p.y) * p.scaleY];
}

/** Point of the pixels' image → source point. */
export function fromView(p: Pixels, [x, y]: readonly [number, number]): [number, number] {
  return [x / p.scaleX + p.x, y / p.scaleY + p.y];
}

export interface PixelSource {
  readonly format: ImageFormat;
  /** Source size after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  /** Milliseconds spent decoding so far (the engine counts it under `decode`, whichever stage asked). */
  readonly decodeMs: number;
  /** The whole image resized to width×height (smaller than the source). */
  scaled(width: number, height: number): Promise<RgbImage>;
  /**
   * Pixels covering rect ∩ image at a scale of at least minScale [1]: a scaled view of the whole image when
   * one is fine enough, else full resolution (a region reaching the image border wherever rect does).
   */
  pixels(rect: Rect, minScale?: number): Promise<Pixels>;
  /** Reads the full-resolution pixels all these requests need in one pass, so later pixels() calls are free. */
  preload(requests: PixelRequest[]): Promise<void>;
}

export interface OpenOptions extends DecodeOptions {
  /**
   * Width × height of the largest scaled view the caller will ask for (the detector's finest level), when known:
   * a large JPEG is then decoded at that size rather than whole.
   */
  scaledSize?: (width: number, height: number) => { width: number; height: number };
  /** Always decode whole at full resolution (the reference path, for comparisons) [false]. */
  fullDecode?: boolean;
}

/**
 * Below this many pixels a JPEG is decoded whole: decoding it costs a few ms, less than the extra calls of
 * region reads. Camera photos (≥ 8 MP) are well above.
 */
export const LAZY_MIN_PIXELS = 4_000_000;
/** libjpeg shrinks on load by 2, 4 or 8, and sharp only uses it from a 3× reduction on (a 2× stays exact). */
const LAZY_MIN_SHRINK = 3;

/** An image decoded whole: every view is cut or resized from the one full-resolution buffer. */
export class DecodedSource implements PixelSource {
  readonly decodeMs: number;
  readonly width: number;
  readonly height: number;

  constructor(readonly img: RgbImage, readonly format: ImageFormat, decodeMs = 0) {
    this.width = img.width;
    this.height = img.height;
    this.decodeMs = decodeMs;
  }

  scaled(width: number, height: number): Promise<RgbImage> {
    return resizeRgb(this.img, width, height);
  }

  async pixels(): Promise<Pixels> {
    return { img: this.img, x: 0, y: 0, scaleX: 1, scaleY: 1 };
  }

  async preload(): Promise<void> {}
}

/** Opens an image file's bytes: a large JPEG lazily (see LazyJpegSource), anything else decoded whole. */
export async function openImage(buf: Uint8Array, opts: OpenOptions, path?: string): Promise<PixelSource> {
  const start = performance.now();
  if (!opts.fullDecode && opts.scaledSize && sniffFormat(buf) === 'jpeg') {
    const lazy = await LazyJpegSource.open(buf, opts, path);
    if (lazy) return lazy;
  }
  const decoded = await decodeImageBuffer(buf, opts, path);
  return new DecodedSource(decoded, decoded.format, performance.now() - start);
}

/** Maps an oriented pixel to its stored (pre-EXIF-orientation) position, for orientations 1–8. */
export function storedPixel(orientation: number, sw: number, sh: number, ox: number, oy: number): [number, number] {
  switch (orientation) {
    case 2: return [sw - 1 - ox, oy];
    case 3: return [sw - 1 - ox, sh - 1 - oy];
    case 4: return [ox, sh - 1 - oy];
    case 5: return [oy, ox];
    case 6: return [oy, sh - 1 - ox];
    case 7: return [sw - 1 - oy, sh - 1 - ox];
    case 8: return [sw - 1 - oy, ox];
    default: return [ox, oy];
  }
}

/**
 * A JPEG read twice, never whole at full resolution: once at the detector's finest scale (shrink-on-load
 * decodes it at 1/2, 1/4 or 1/8 in the DCT domain), and once for the rectangle around the faces (libvips
 * decodes only down to the rectangle's last row, and keeps only its columns). Pixels are the same as the
 * whole-image decode's (same colour pipeline, EXIF orientation applied to the region).
 */
class LazyJpegSource implements PixelSource {
  readonly format = 'jpeg' as const;
  decodeMs = 0;
  private region: Pixels | undefined;

  private constructor(
    private readonly buf: Uint8Array,
    private readonly opts: OpenOptions,
    private readonly path: string | undefined,
    private readonly orientation: number,
    private readonly storedWidth: number,
    private readonly storedHeight: number,
    readonly width: number,
    readonly height: number,
    private finest: RgbImage,
  ) {}

  /** The lazy source, or undefined when a whole decode is the better deal (small, or little to shrink). */
  static async open(buf: Uint8Array, opts: OpenOptions, path?: string): Promise<LazyJpegSource | undefined> {
    const start = performance.now();
    const meta = await sharp(buf).metadata().catch(() => undefined);
    if (!meta?.width || !meta.height) return undefined;
    const orientation = meta.orientation ?? 1;
    const [width, height] = orientation >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
    if (width * height < LAZY_MIN_PIXELS || width * height > opts.maxPixels) return undefined;
    const size = opts.scaledSize!(width, height);
    if (width / size.width < LAZY_MIN_SHRINK || height / size.height < LAZY_MIN_SHRINK) return undefined;
    const finest = await decodeScaled(buf, opts, size.width, size.height, path);
    const source = new LazyJpegSource(buf, opts, path, orientation, meta.width, meta.height, width, height, finest);
    source.decodeMs = performance.now() - start;
    return source;
  }

  async scaled(width: number, height: number): Promise<RgbImage> {
    if (width <= this.finest.width && height <= this.finest.height) return resizeRgb(this.finest, width, height);
    return this.timed(async () => (this.finest = await decodeScaled(this.buf, this.opts, width, height, this.path)));
  }

  async pixels(rect: Rect, minScale = 1): Promise<Pixels> {
    const view = this.view();
    if (Math.min(view.scaleX, view.scaleY) >= minScale) return view;
    const want = clip(rect, this.width, this.height);
    if (want.width === 0 || want.height === 0) return view;
    if (this.region && contains(this.region, want)) return this.region;
    // One cached region: grow it to cover both, so faces met later never cost a second pass over rows read.
    const r = this.region ? union(want, { x: this.region.x, y: this.region.y, width: this.region.img.width, height: this.region.img.height }) : want;
    this.region = await this.timed(() => this.read(r));
    return this.region;
  }

  async preload(requests: PixelRequest[]): Promise<void> {
    const view = this.view();
    const full = requests
      .filter((r) => Math.min(view.scaleX, view.scaleY) < r.minScale)
      .map((r) => clip(r.rect, this.width, this.height))
      .filter((r) => r.width > 0 && r.height > 0);
    if (full.length) await this.pixels(full.reduce(union));
  }

  /** The finest scaled view, as pixels of the whole image. */
  private view(): Pixels {
    return { img: this.finest, x: 0, y: 0, scaleX: this.finest.width / this.width, scaleY: this.finest.height / this.height };
  }

  private async timed<T>(fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.decodeMs += performance.now() - start;
    }
  }

  /** Full-resolution pixels of an oriented rectangle: its stored counterpart extracted, then oriented here. */
  private async read(rect: Rect): Promise<Pixels> {
    const o = this.orientation;
    const [ax, ay] = storedPixel(o, this.storedWidth, this.storedHeight, rect.x, rect.y);
    const [bx, by] = storedPixel(o, this.storedWidth, this.storedHeight, rect.x + rect.width - 1, rect.y + rect.height - 1);
    const stored: Rect = { x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax) + 1, height: Math.abs(by - ay) + 1 };
    const data = await decodeRegion(this.buf, this.opts, stored, this.path);
    if (o === 1) return { img: { data, width: rect.width, height: rect.height }, x: rect.x, y: rect.y, scaleX: 1, scaleY: 1 };
    const out = new Uint8Array(rect.width * rect.height * 3);
    for (let y = 0; y < rect.height; y++) {
      for (let x = 0; x < rect.width; x++) {
        const [sx, sy] = storedPixel(o, this.storedWidth, this.storedHeight, rect.x + x, rect.y + y);
        const s = ((sy - stored.y) * stored.width + sx - stored.x) * 3, d = (y * rect.width + x) * 3;
        out[d] = data[s]!; out[d + 1] = data[s + 1]!; out[d + 2] = data[s + 2]!;
      }
    }
    return { img: { data: out, width: rect.width, height: rect.height }, x: rect.x, y: rect.y, scaleX: 1, scaleY: 1 };
  }
}

/** The same colour pipeline as decode.ts (flatten, sRGB, no alpha, 8 bits), so pixels match a whole decode. */
function toRgb(img: Sharp): Sharp {
  return img.flatten({ background: FLATTEN_BACKGROUND }).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' });
}

async function decodeScaled(buf: Uint8Array, opts: DecodeOptions, width: number, height: number, path?: string): Promise<RgbImage> {
  const data = await runSharp(
    toRgb(
      sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'error', sequentialRead: true })
        .rotate()
        .resize(width, height, { fit: 'fill', fastShrinkOnLoad: true }),
    ),
    width * height * 3,
    path,
  );
  return { data, width, height };
}

async function decodeRegion(buf: Uint8Array, opts: DecodeOptions, r: Rect, path?: string): Promise<Uint8Array> {
  const img = sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'error' }).extract({ left: r.x, top: r.y, width: r.width, height: r.height });
  return runSharp(toRgb(img), r.width * r.height * 3, path);
}

async function runSharp(img: Sharp, bytes: number, path?: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await img.toBuffer();
  } catch (err) {
    throw new DecodeError(`corrupt or unsupported jpeg: ${(err as Error).message.trim()}`, path, { cause: err });
  }
  if (data.length !== bytes) throw new DecodeError(`unexpected ${data.length} bytes decoding a region (want ${bytes})`, path);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function clip(r: Rect, width: number, height: number): Rect {
  const x = Math.max(0, Math.floor(r.x)), y = Math.max(0, Math.floor(r.y));
  const x2 = Math.min(width, Math.ceil(r.x + r.width)), y2 = Math.min(height, Math.ceil(r.y + r.height));
  return { x, y, width: Math.max(0, x2 - x), height: Math.max(0, y2 - y) };
}

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function contains(p: Pixels, r: Rect): boolean {
  return p.scaleX === 1 && r.x >= p.x && r.y >= p.y && r.x + r.width <= p.x + p.img.width && r.y + r.height <= p.y + p.img.height;
}
