// Unit tests of decoding: format sniffing, colour conversions, alpha, PSD composite and layer compositing, errors.
import { writePsd, type Layer } from 'ag-psd';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeImageBuffer, sniffFormat } from './decode';

const opts = { maxPixels: 1_000_000 };

/** A sharp pipeline over a W×H image filled with one colour. */
function solid(width: number, height: number, [r, g, b]: [number, number, number]): Sharp {
  const buf = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) buf.set([r, g, b], i * 3);
  return sharp(buf, { raw: { width, height, channels: 3 } });
}

function pixel(img: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(i, i + 3));
}

function rgba(width: number, height: number, [r, g, b, a]: [number, number, number, number]) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([r, g, b, a], i * 4);
  return { width, height, data };
}

describe('sniffFormat', () => {
  it('reads magic bytes, not names', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))).toBe('png');
    expect(sniffFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'))).toBe('webp');
    expect(sniffFormat(Buffer.from('II*\0', 'latin1'))).toBe('tiff');
    expect(sniffFormat(Buffer.from('MM\0*', 'latin1'))).toBe('tiff');
    expect(sniffFormat(Buffer.from('8BPS\0\x01', 'latin1'))).toBe('psd');
    expect(sniffFormat(Buffer.from('hello'))).toBeUndefined();
  });
});

describe('decodeImageBuffer', () => {
  it('turns grayscale into RGB', async () => {
    const png = await solid(4, 2, [90, 90, 90]).toColourspace('b-w').png().toBuffer();
    const src = await sharp(Buffer.alloc(8, 90), { raw: { width: 4, height: 2, channels: 1 } }).png().toBuffer();
    for (const buf of [png, src]) {
      const img = await decodeImageBuffer(buf, opts);
      expect(img).toMatchObject({ format: 'png', width: 4, height: 2 });
      expect(img.data).toHaveLength(4 * 2 * 3);
      expect(pixel(img, 3, 1)).toEqual([90, 90, 90]);
    }
  });

  it('flattens alpha onto white', async () => {
    // Half-transparent black over white → 50 % gray; fully transparent → white whatever its colour.
    const raw = Buffer.from([0, 0, 0, 128, 200, 10, 10, 0]);
    const png = await sharp(raw, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const img = await decodeImageBuffer(png, opts);
    expect(pixel(img, 0, 0).every((v) => Math.abs(v - 127) <= 1)).toBe(true);
    expect(pixel(img, 1, 0)).toEqual([255, 255, 255]);
  });

  it('reduces 16-bit PNGs and CMYK JPEGs to 8-bit sRGB', async () => {
    const png16 = await solid(3, 3, [200, 100, 50]).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    expect(pixel(await decodeImageBuffer(png16, opts), 1, 1)).toEqual([200, 100, 50]);
    const cmyk = await solid(8, 8, [200, 40, 40]).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const [r, g, b] = pixel(await decodeImageBuffer(cmyk, opts), 4, 4);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(100);
    expect(b).toBeLessThan(100);
  });

  it('applies EXIF orientation', async () => {
    // 2×1 stored [red, blue] tagged "rotate 90° clockwise" displays as 1×2 [red over blue].
    const stored = Buffer.from([255, 0, 0, 0, 0, 255]);
    const jpg = await sharp(stored, { raw: { width: 2, height: 1, channels: 3 } })
      .resize(16, 8, { kernel: 'nearest' })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 100 })
      .toBuffer();
    const img = await decodeImageBuffer(jpg, opts);
    expect([img.width, img.height]).toEqual([8, 16]);
    expect(pixel(img, 4, 2)[0]).toBeGreaterThan(200);
    expect(pixel(img, 4, 13)[2]).toBeGreaterThan(200);
  });

  it('decodes a mislabelled file by its content', async () => {
    const png = await solid(2, 2, [1, 2, 3]).png().toBuffer();
    expect((await decodeImageBuffer(png, opts, 'really-a-png.jpg')).format).toBe('png');
  });

  it('refuses empty, text, unknown, truncated and oversized inputs with reasons', async () => {
    const jpg = await solid(64, 64, [9, 99, 199]).jpeg().toBuffer();
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const png = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    const cases: [Buffer, RegExp][] = [
      [png.subarray(0, png.length >> 1), /corrupt or unsupported png/],
      [Buffer.alloc(0), /empty file/],
      [Buffer.from('just some text\n'), /holds text/],
      [Buffer.from([0x00, 0x13, 0x37, 0x99, 0x01]), /unrecognised format \(first bytes 00 13 37 99\)/],
      [jpg.subarray(0, jpg.length >> 1), /corrupt or unsupported jpeg/],
      [Buffer.from('\x89PNG\r\n\x1a\n\0\0\0', 'latin1'), /corrupt or unsupported png/],
    ];
    for (const [buf, reason] of cases) {
      const err = await decodeImageBuffer(buf, opts, '/bucket/x.jpg').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).reason).toMatch(reason);
      expect((err as DecodeError).message).toContain('/bucket/x.jpg');
    }
    const big = await decodeImageBuffer(jpg, { maxPixels: 100 }).catch((e: unknown) => e);
    expect((big as DecodeError).reason).toMatch(/pixel limit/);
  });
});

describe('PSD', () => {
  it('uses the composite image when there is one', async () => {
    const composite = rgba(4, 3, [10, 20, 30, 255]);
    composite.data.set([40, 50, 60, 255], 0);
    const psd = writePsd({ width: 4, height: 3, imageData: composite, children: [{ name: 'l', imageData: rgba(4, 3, [200, 0, 0, 255]) }] });
    const img = await decodeImageBuffer(Buffer.from(psd), opts);
    expect(img).toMatchObject({ format: 'psd', width: 4, height: 3 });
    expect(pixel(img, 0, 0)).toEqual([40, 50, 60]);
    expect(pixel(img, 2, 1)).toEqual([10, 20, 30]);
  });

  it('treats a one-colour composite over differing layers as missing', async () => {
    const psd = writePsd({ width: 4, height: 3, imageData: rgba(4, 3, [255, 255, 255, 255]), children: [{ name: 'l', imageData: rgba(4, 3, [200, 0, 0, 255]) }] });
    expect(pixel(await decodeImageBuffer(Buffer.from(psd), opts), 1, 1)).toEqual([200, 0, 0]);
  });

  it('composites visible layers onto white when the composite is blank', async () => {
    // No composite given: ag-psd writes an opaque black one, so only layer compositing gives these values.
    const children: Layer[] = [
      { name: 'base', left: 0, top: 0, imageData: rgba(4, 4, [0, 0, 200, 255]) },
      { name: 'hidden', hidden: true, imageData: rgba(4, 4, [0, 255, 0, 255]) },
      {
        name: 'group',
        opacity: 0.5,
        children: [{ name: 'red', left: 3, top: 1, imageData: rgba(3, 2, [255, 0, 0, 255]) }],
      },
      { name: 'faint', left: 0, top: 3, opacity: 1, imageData: rgba(1, 1, [0, 0, 0, 0]) },
    ];
    const psd = writePsd({ width: 6, height: 4, children });
    const img = await decodeImageBuffer(Buffer.from(psd), opts);
    expect([img.width, img.height]).toEqual([6, 4]);
    expect(pixel(img, 0, 0)).toEqual([0, 0, 200]); // base layer
    expect(pixel(img, 5, 0)).toEqual([255, 255, 255]); // uncovered canvas is white
    // PSD stores opacity as a byte, so 50 % reads back as 128/255: ±1.
    const near = (got: number[], want: number[]): void => got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1));
    near(pixel(img, 3, 2), [128, 0, 100]); // red at 50 % (group opacity) over blue
    near(pixel(img, 5, 1), [255, 127.5, 127.5]); // red at 50 % over white, past the base layer
    expect(pixel(img, 0, 3)).toEqual([0, 0, 200]); // transparent pixel leaves what is below
  });

  it('refuses a truncated PSD', async () => {
    const psd = Buffer.from(writePsd({ width: 8, height: 8, imageData: rgba(8, 8, [1, 2, 3, 255]) }));
    const err = await decodeImageBuffer(psd.subarray(0, 40), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).reason).toMatch(/psd/i);
  });
});
