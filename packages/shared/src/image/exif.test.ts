import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readCaptureTime } from './exif';

/** Smallest little-endian TIFF whose IFD0 holds one entry: DateTime (0x0132, ASCII, 20 bytes at offset 26). */
function tiffWithDateTime(when: string): Buffer {
  const b = Buffer.alloc(46);
  b.write('II', 0, 'ascii');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4); // IFD0 at 8
  b.writeUInt16LE(1, 8); // one entry
  b.writeUInt16LE(0x0132, 10);
  b.writeUInt16LE(2, 12); // ASCII
  b.writeUInt32LE(20, 14);
  b.writeUInt32LE(26, 18); // value offset: 8 + 2 + 12 + 4 (next-IFD pointer, 0)
  b.write(`${when}\0`, 26, 'ascii');
  return b;
}

const base = () => sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 90, g: 90, b: 90 } } });

describe('readCaptureTime', () => {
  it('prefers DateTimeOriginal over DateTime, in JPEG, PNG and WebP', async () => {
    for (const fmt of ['jpeg', 'png', 'webp'] as const) {
      const buf = await base()
        .withExif({ IFD0: { DateTime: '2011:02:03 04:05:06' }, IFD2: { DateTimeOriginal: '2005:06:07 08:09:10' } })
        .toFormat(fmt)
        .toBuffer();
      expect((await readCaptureTime(buf, fmt))?.toISOString(), fmt).toBe('2005-06-07T08:09:10.000Z');
    }
  });

  it('falls back to DateTime, and reads a TIFF file as its own EXIF block', async () => {
    const jpg = await base().withExif({ IFD0: { DateTime: '2011:02:03 04:05:06' } }).jpeg().toBuffer();
    expect((await readCaptureTime(jpg, 'jpeg'))?.toISOString()).toBe('2011-02-03T04:05:06.000Z');
    // libvips writes no EXIF into TIFFs; a camera's TIFF carries DateTime in IFD0, as this hand-made one does.
    expect((await readCaptureTime(tiffWithDateTime('1999:12:31 23:59:59'), 'tiff'))?.toISOString()).toBe('1999-12-31T23:59:59.000Z');
  });

  it('gives null for no EXIF, an unset camera clock, a PSD and garbage', async () => {
    expect(await readCaptureTime(await base().jpeg().toBuffer(), 'jpeg')).toBeNull();
    const unset = await base().withExif({ IFD0: { DateTime: '0000:00:00 00:00:00' } }).jpeg().toBuffer();
    expect(await readCaptureTime(unset, 'jpeg')).toBeNull();
    expect(await readCaptureTime(Buffer.from('8BPS....'), 'psd')).toBeNull();
    expect(await readCaptureTime(Buffer.from([0xff, 0xd8, 0xff, 0x00]), 'jpeg')).toBeNull();
  });
});
