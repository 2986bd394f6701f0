// Capture time of a photo from its EXIF block: DateTimeOriginal, then DateTime (parsed by exif-reader).
import exifReader from 'exif-reader';
import sharp from 'sharp';
import type { ImageFormat } from '../engine/types';

/** Cameras with an unset clock write `0000:00:00 00:00:00`; nothing before photography's first century counts. */
const EARLIEST = Date.UTC(1900, 0, 1);

/**
 * The capture time EXIF gives for the photo, or null (no EXIF, no date, an unset clock, an unreadable block).
 * EXIF times carry no zone: the wall-clock time is kept as if it were UTC, so the calendar date never shifts.
 * Never throws: a photo without a usable date is simply undated.
 */
export async function readCaptureTime(buf: Uint8Array, format: ImageFormat): Promise<Date | null> {
  try {
    const block = await exifBlock(buf, format);
    return block ? captureTimeOf(block) : null;
  } catch {
    return null;
  }
}

/** The raw EXIF block: a TIFF file is one already; sharp hands over JPEG's APP1, PNG's eXIf and WebP's EXIF chunk. */
async function exifBlock(buf: Uint8Array, format: ImageFormat): Promise<Buffer | null> {
  if (format === 'psd') return null;
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (format === 'tiff') return bytes;
  return (await sharp(bytes).metadata()).exif ?? null;
}

/** DateTimeOriginal (when the shutter fired) first, then DateTime (when the file was last changed). */
export function captureTimeOf(block: Buffer): Date | null {
  const tags = exifReader(block);
  for (const d of [tags.Photo?.DateTimeOriginal, tags.Image?.DateTime]) {
    if (d instanceof Date && Number.isFinite(d.getTime()) && d.getTime() >= EARLIEST) return d;
  }
  return null;
}
