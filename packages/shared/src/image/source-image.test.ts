// The lazy JPEG path reads exactly the pixels a whole decode gives, in every EXIF orientation.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImageBuffer } from './decode';
import { DecodedSource, openImage, storedPixel, type PixelSource } from './source-image';
import { resizeRgb } from './resample';

const W = 2400, H = 1800;

/** A 2400×1800 JPEG (4.3 MP, above LAZY_MIN_PIXELS) of gradients and texture, stored with an EXIF orientation. */
async function photo(orientation: number): Promise<Buffer> {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      data[i] = (x * 255) / W;
      data[i + 1] = (y * 255) / H;
      data[i + 2] = ((x * 7) ^ (y * 13)) & 255;
    }
  }
  return sharp(data, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).withMetadata({ orientation }).toBuffer();
}

const quarter = (w: number, h: number) => ({ width: Math.round(w / 4), height: Math.round(h / 4) });

describe('storedPixel', () => {
  it('maps the corners of a 4×2 stored image for each orientation', () => {
    // Orientation 6 (rotate 90° clockwise to display): displayed top-left is stored bottom-left.
    expect(storedPixel(6, 4, 2, 0, 0)).toEqual([0, 1]);
    expect(storedPixel(6, 4, 2, 1, 3)).toEqual([3, 0]);
    // 8 (rotate 90° anticlockwise): displayed top-left is stored top-right.
    expect(storedPixel(8, 4, 2, 0, 0)).toEqual([3, 0]);
    expect(storedPixel(3, 4, 2, 0, 0)).toEqual([3, 1]);
    expect(storedPixel(1, 4, 2, 2, 1)).toEqual([2, 1]);
  });
});

describe('openImage', () => {
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`reads regions of a large JPEG equal to the whole decode (EXIF orientation ${orientation})`, async () => {
      const buf = await photo(orientation);
      const full = await decodeImageBuffer(buf, { maxPixels: 1e8 });
      const src: PixelSource = await openImage(buf, { maxPixels: 1e8, scaledSize: quarter });
      expect(src).not.toBeInstanceOf(DecodedSource);
      expect([src.width, src.height]).toEqual([full.width, full.height]);
      for (const rect of [{ x: 0, y: 0, width: 37, height: 23 }, { x: 801, y: 603, width: 150, height: 90 }, { x: full.width - 40, y: full.height - 30, width: 60, height: 50 }]) {
        const px = await src.pixels(rect);
        expect(px.scaleX).toBe(1);
        for (let y = rect.y; y < Math.min(full.height, rect.y + rect.height); y++) {
          for (let x = rect.x; x < Math.min(full.width, rect.x + rect.width); x++) {
            const a = ((y - px.y) * px.img.width + x - px.x) * 3, b = (y * full.width + x) * 3;
            if (px.img.data[a] !== full.data[b] || px.img.data[a + 2] !== full.data[b + 2]) {
              throw new Error(`pixel (${x}, ${y}) differs: ${px.img.data.subarray(a, a + 3)} vs ${full.data.subarray(b, b + 3)}`);
            }
          }
        }
      }
      // The scaled view is the shrink-on-load decode: close to resizing the whole decode, not equal.
      const view = await src.scaled(Math.round(full.width / 4), Math.round(full.height / 4));
      const ref = await resizeRgb(full, view.width, view.height);
      let diff = 0;
      for (let i = 0; i < view.data.length; i++) diff += Math.abs(view.data[i]! - ref.data[i]!);
      expect(diff / view.data.length).toBeLessThan(3);
      // A request fine enough at the view's scale gets the view, with its scale.
      const coarse = await src.pixels({ x: 10, y: 10, width: 100, height: 100 }, 0.2);
      expect(coarse.img).toBe(view);
      expect(coarse.scaleX).toBeCloseTo(0.25, 2);
    });
  }

  it('decodes small JPEGs and other formats whole', async () => {
    const small = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    expect(await openImage(small, { maxPixels: 1e8, scaledSize: quarter })).toBeInstanceOf(DecodedSource);
    const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#808080' } }).png().toBuffer();
    expect(await openImage(png, { maxPixels: 1e8, scaledSize: quarter })).toBeInstanceOf(DecodedSource);
    expect(await openImage(await photo(1), { maxPixels: 1e8, scaledSize: quarter, fullDecode: true })).toBeInstanceOf(DecodedSource);
  });

  it('refuses a JPEG over the pixel limit before decoding it', async () => {
    await expect(openImage(await photo(1), { maxPixels: 1_000_000, scaledSize: quarter })).rejects.toThrow(/pixel limit|exceeds/i);
  });
});
