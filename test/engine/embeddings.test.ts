// Embedding quality and decode paths on real photos: identities separate, and PSD, grayscale, RGBA,
// EXIF-rotated and blurred variants of a photo behave like the photo.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePsd, type PixelData } from 'ag-psd';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import { iou } from '../../packages/shared/src/engine/nms';
import type { Box } from '../../packages/shared/src/engine/types';
import { decodeImage } from '../../packages/shared/src/image/decode';
import { bestFace, copyFixtures, cosineDistance, createEngine, expectOk } from './helpers';

let engine: FaceEngine;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await copyFixtures());
  engine = await createEngine();
});

afterAll(async () => {
  await engine?.close();
  await cleanup?.();
});

function quantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('identities', () => {
  it('puts same-person pairs close and different-person pairs far (people/, labels.csv)', async () => {
    const labels = (await readFile(join(dir, 'labels.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    const faces: { identity: string; embedding: Float32Array }[] = [];
    for (const [path, identity] of labels) {
      faces.push({ identity: identity!, embedding: bestFace(await engine.processFile(join(dir, path!))).embedding });
    }
    const same: number[] = [], diff: number[] = [];
    for (let i = 0; i < faces.length; i++) {
      for (let j = i + 1; j < faces.length; j++) {
        const d = cosineDistance(faces[i]!.embedding, faces[j]!.embedding);
        (faces[i]!.identity === faces[j]!.identity ? same : diff).push(d);
      }
    }
    same.sort((a, b) => a - b);
    diff.sort((a, b) => a - b);
    let wins = 0;
    for (const s of same) for (const d of diff) wins += s < d ? 1 : s === d ? 0.5 : 0;
    const auc = wins / (same.length * diff.length);
    // Measured: AUC 1.000, same median 0.32, different median 0.998 and 1 % quantile 0.78.
    expect(auc).toBeGreaterThanOrEqual(0.98);
    expect(quantile(same, 0.5)).toBeLessThan(0.45);
    expect(quantile(diff, 0.5)).toBeGreaterThan(0.85);
    expect(quantile(diff, 0.01)).toBeGreaterThan(quantile(same, 0.5) + 0.3);
  });
});

describe('decode variants', () => {
  it('embeds grayscale PNGs and the RGBA PNG', async () => {
    const gray = expectOk(await engine.processFile(join(dir, 'people/amy/amy1.png')));
    expect(gray).toMatchObject({ format: 'png', width: 150, height: 150 });
    expect(gray.faces).toHaveLength(1);
    // misc/32bit.png is people/obama/obama2.jpg with an alpha channel.
    const rgba = bestFace(await engine.processFile(join(dir, 'misc/32bit.png')));
    const jpg = bestFace(await engine.processFile(join(dir, 'people/obama/obama2.jpg')));
    expect(cosineDistance(rgba.embedding, jpg.embedding)).toBeLessThan(0.05);
  });

  it('embeds a PSD built from a photo like the photo, with and without a composite image', async () => {
    const photo = join(dir, 'people/obama/obama4.jpg');
    const img = await decodeImage(photo, { maxPixels: 1e8 });
    const toRgba = (x0: number, y0: number, w: number, h: number): PixelData => {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const s = ((y0 + y) * img.width + x0 + x) * 3;
          data.set([img.data[s]!, img.data[s + 1]!, img.data[s + 2]!, 255], (y * w + x) * 4);
        }
      }
      return { width: w, height: h, data };
    };
    const { width, height } = img;
    // Two layers (left and right halves, the right one placed by `left`) so compositing must position them.
    const half = Math.floor(width / 2);
    const children = [
      { name: 'left', left: 0, top: 0, imageData: toRgba(0, 0, half, height) },
      { name: 'right', left: half, top: 0, imageData: toRgba(half, 0, width - half, height) },
      { name: 'hidden scribble', hidden: true, left: 0, top: 0, imageData: toRgba(0, 0, 10, 10) },
    ];
    await writeFile(join(dir, 'with.psd'), Buffer.from(writePsd({ width, height, imageData: toRgba(0, 0, width, height), children })));
    await writeFile(join(dir, 'without.psd'), Buffer.from(writePsd({ width, height, children })));
    const ref = bestFace(await engine.processFile(photo));
    for (const name of ['with.psd', 'without.psd']) {
      const r = expectOk(await engine.processFile(join(dir, name)));
      expect(r.format).toBe('psd');
      expect(cosineDistance(bestFace(r).embedding, ref.embedding)).toBeLessThan(0.05);
    }
  });

  it('reports boxes in the EXIF-rotated frame', async () => {
    const photo = join(dir, 'people/obama/obama4.jpg');
    const ref = bestFace(await engine.processFile(photo));
    // Stored pixels rotated the other way, so that applying the tag gives the original back.
    const cases: [orientation: number, storedRotation: number][] = [[6, 270], [3, 180], [8, 90]];
    for (const [orientation, storedRotation] of cases) {
      const path = join(dir, `rotated-${orientation}.jpg`);
      await sharp(photo).rotate(storedRotation).withMetadata({ orientation }).jpeg({ quality: 95 }).toFile(path);
      expect((await sharp(path).metadata()).orientation).toBe(orientation);
      const r = expectOk(await engine.processFile(path));
      expect([r.width, r.height]).toEqual([853, 480]);
      const face = bestFace(r);
      expect(iou(face.box, ref.box)).toBeGreaterThan(0.9);
      face.box.forEach((v, i) => expect(Math.abs(v - ref.box[i]!)).toBeLessThan(4));
      expect(cosineDistance(face.embedding, ref.embedding)).toBeLessThan(0.05);
    }
  });

  it('scores a blurred copy far lower on blur', async () => {
    const photo = join(dir, 'people/rose_leslie/img2.jpg');
    const blurred = join(dir, 'blurred.jpg');
    await sharp(photo).blur(4).jpeg({ quality: 95 }).toFile(blurred);
    const sharpFace = bestFace(await engine.processFile(photo));
    const blurFace = bestFace(await engine.processFile(blurred));
    expect(iou(sharpFace.box, blurFace.box)).toBeGreaterThan(0.7);
    expect(blurFace.blur).toBeLessThan(sharpFace.blur / 5);
  });

  it('gives face measures consistent with the box', async () => {
    const r = expectOk(await engine.processFile(join(dir, 'groups/bbt1.jpg')));
    expect(r.faces.length).toBe(4);
    for (const f of r.faces) {
      const [x1, y1, x2, y2]: Box = f.box;
      expect(f.faceShort).toBeCloseTo(Math.min(x2 - x1, y2 - y1), 9);
      expect(f.detScore).toBeGreaterThanOrEqual(0.5);
      let norm = 0;
      for (const v of f.embedding) norm += v * v;
      expect(norm).toBeCloseTo(1, 4);
      const [le, re, nose, lm, rm] = f.kps;
      // Eyes above nose above mouth, left of right, all inside the box.
      expect(le[0]).toBeLessThan(re[0]);
      expect(Math.max(le[1], re[1])).toBeLessThan(nose[1]);
      expect(nose[1]).toBeLessThan(Math.min(lm[1], rm[1]));
      for (const [x, y] of f.kps) {
        expect(x).toBeGreaterThan(x1);
        expect(x).toBeLessThan(x2);
        expect(y).toBeGreaterThan(y1);
        expect(y).toBeLessThan(y2);
      }
    }
    expect(expectOk(await engine.processFile(join(dir, 'misc/white.png'))).faces).toEqual([]);
  });
});
