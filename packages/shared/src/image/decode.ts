// Decodes any supported image file (sniffed by magic bytes) into 8-bit sRGB RGB with EXIF orientation applied.
import { readFile } from 'node:fs/promises';
import { fsPath } from '../jobs/fs-path';
import sharp from 'sharp';
import type { ImageFormat, RgbImage } from '../engine/types';
import { DecodeError, FLATTEN_BACKGROUND } from './decode-error';
import { decodeFailureReason } from './decode-reason';
import { decodePsd } from './psd';

export { DecodeError, FLATTEN_BACKGROUND };

export interface DecodeOptions {
  /** Largest width × height accepted; bigger images are refused before their pixels are decoded. */
  maxPixels: number;
}

export type DecodedImage = RgbImage & { format: ImageFormat };

/** Identifies the container from its first bytes; extensions lie (a renamed PNG is still a PNG). */
export function sniffFormat(buf: Uint8Array): ImageFormat | undefined {
  const b = (i: number): number => buf[i] ?? -1;
  const ascii = (from: number, s: string): boolean => [...s].every((ch, i) => b(from + i) === ch.charCodeAt(0));
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'png';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if ((ascii(0, 'II') && b(2) === 42 && b(3) === 0) || (ascii(0, 'MM') && b(2) === 0 && b(3) === 42)) return 'tiff';
  // BigTIFF (version 43) is decoded by libvips too.
  if ((ascii(0, 'II') && b(2) === 43 && b(3) === 0) || (ascii(0, 'MM') && b(2) === 0 && b(3) === 43)) return 'tiff';
  if (ascii(0, '8BPS')) return 'psd';
  return undefined;
}

function describeUnknown(buf: Uint8Array): string {
  const head = buf.subarray(0, Math.min(buf.length, 512));
  const printable = head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128);
  const hex = Array.from(buf.subarray(0, 4), (c) => c.toString(16).padStart(2, '0')).join(' ');
  return printable
    ? 'not an image: the file holds text'
    : `not an image: unrecognised format (first bytes ${hex})`;
}

export async function decodeImage(path: string, opts: DecodeOptions): Promise<DecodedImage> {
  let buf: Buffer;
  try {
    buf = await readFile(fsPath(path));
  } catch (err) {
    throw new DecodeError(`cannot read file: ${(err as Error).message}`, path, { cause: err });
  }
  return decodeImageBuffer(buf, opts, path);
}

export async function decodeImageBuffer(buf: Uint8Array, opts: DecodeOptions, path?: string): Promise<DecodedImage> {
  if (buf.length === 0) throw new DecodeError('empty file (0 bytes)', path);
  const format = sniffFormat(buf);
  if (format === undefined) throw new DecodeError(describeUnknown(buf), path);
  try {
    const img = format === 'psd' ? decodePsd(buf, opts) : await decodeWithSharp(buf, opts);
    return { ...img, format };
  } catch (err) {
    if (err instanceof DecodeError) throw new DecodeError(err.reason, path, { cause: err.cause });
    const message = err instanceof Error ? err.message : String(err);
    throw new DecodeError(decodeFailureReason(format, message, buf), path, { cause: err });
  }
}

async function decodeWithSharp(buf: Uint8Array, opts: DecodeOptions): Promise<RgbImage> {
  // failOn 'error', not sharp's default 'warning': real cameras write JPEGs with benign warnings (extraneous
  // bytes before a marker); truncated JPEG/PNG/WebP/TIFF data still fail here (measured on sharp 0.35).
  const { data, info } = await sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'error', sequentialRead: true })
    .rotate() // EXIF orientation
    .flatten({ background: FLATTEN_BACKGROUND })
    .toColourspace('srgb') // grayscale, CMYK (via its profile), 16-bit → 8-bit sRGB
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    throw new DecodeError(`unexpected ${info.channels} channels after conversion to sRGB`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
