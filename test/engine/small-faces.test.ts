// Small faces in a large photo: faces ~100 px and ~60 px tall pasted into a 6000×4000 canvas are found in place.
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import { iou } from '../../packages/shared/src/engine/nms';
import type { Box } from '../../packages/shared/src/engine/types';
import { bestFace, copyFixtures, createEngine, expectOk } from './helpers';

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

const W = 6000, H = 4000;

/** A head-and-shoulders cut around a photo's face, scaled so its detector box is `height` px tall (or `width` wide). */
async function faceCut(photo: string, height: number, by: 'height' | 'width' = 'height'): Promise<{ png: Buffer; box: Box }> {
  const face = bestFace(await engine.processFile(photo));
  const [x1, y1, x2, y2] = face.box;
  const meta = await sharp(photo).metadata();
  const w = x2 - x1, h = y2 - y1;
  const left = Math.max(0, Math.round(x1 - w * 0.6)), top = Math.max(0, Math.round(y1 - h * 0.4));
  const cw = Math.min(meta.width! - left, Math.round(w * 2.2)), ch = Math.min(meta.height! - top, Math.round(h * 1.9));
  const s = height / (by === 'height' ? h : w);
  const png = await sharp(photo).rotate().extract({ left, top, width: cw, height: ch }).resize(Math.round(cw * s), Math.round(ch * s)).png().toBuffer();
  return { png, box: [(x1 - left) * s, (y1 - top) * s, (x2 - left) * s, (y2 - top) * s] };
}

describe('small faces in a 6000×4000 photo', () => {
  for (const background of ['plain', 'noisy'] as const) {
    it(`finds a ~100 px and a ~60 px face on a ${background} background`, async () => {
      const big = await faceCut(join(dir, 'people/obama/obama4.jpg'), 100);
      const small = await faceCut(join(dir, 'people/rose_leslie/img2.jpg'), 60);
      const canvas =
        background === 'plain'
          ? sharp({ create: { width: W, height: H, channels: 3, background: { r: 176, g: 168, b: 150 } } })
          : sharp(randomFillSync(Buffer.alloc(W * H * 3)), { raw: { width: W, height: H, channels: 3 } }).blur(1.5);
      const at = { big: [1234, 2345], small: [4321, 765] } as const;
      const path = join(dir, `big-${background}.jpg`);
      await canvas
        .composite([
          { input: big.png, left: at.big[0], top: at.big[1] },
          { input: small.png, left: at.small[0], top: at.small[1] },
        ])
        .jpeg({ quality: 90 })
        .toFile(path);
      const r = expectOk(await engine.processFile(path));
      expect([r.width, r.height]).toEqual([W, H]);
      for (const [cut, [dx, dy]] of [[big, at.big], [small, at.small]] as const) {
        const want: Box = [cut.box[0] + dx, cut.box[1] + dy, cut.box[2] + dx, cut.box[3] + dy];
        const found = r.faces.find((f) => iou(f.box, want) > 0.6);
        expect(found, `face near [${want.map(Math.round).join(', ')}] in ${JSON.stringify(r.faces.map((f) => f.box))}`).toBeDefined();
        expect(found!.detScore).toBeGreaterThan(0.9);
      }
      expect(r.faces.length).toBe(2);
    });
  }

  it('finds 40 px faces anywhere: at tile borders of every pyramid level, near the edges, on a noisy background', async () => {
    const photos = ['people/obama/obama4.jpg', 'people/rose_leslie/img2.jpg', 'people/biden/biden2.jpg', 'people/kit_harington/john1.jpeg'];
    // 40 px wide at the short side (the box width), the smallest face the engine promises to find.
    const cuts: { png: Buffer; box: Box }[] = [];
    for (const p of photos) cuts.push(await faceCut(join(dir, p), 40, 'width'));
    // Positions spread over the canvas, several straddling the 320×240-tile borders of the finest levels
    // (multiples of ~1000 and ~750 source px for a 6000×4000 photo) and two hugging the image edges.
    const at: [number, number][] = [
      [3, 5], [980, 740], [1990, 1490], [2995, 2245], [4010, 745], [5950, 3940], [3000, 20], [12, 2000],
      [1500, 3000], [4500, 1500], [2510, 3700], [5200, 2600],
    ];
    const canvas = sharp(randomFillSync(Buffer.alloc(W * H * 3)), { raw: { width: W, height: H, channels: 3 } }).blur(1.5);
    const placed = at.map(([x, y], i) => ({ cut: cuts[i % cuts.length]!, x, y }));
    const path = join(dir, 'forty.jpg');
    await canvas
      .composite(placed.map(({ cut, x, y }) => ({ input: cut.png, left: Math.min(x, W - 100), top: Math.min(y, H - 100) })))
      .jpeg({ quality: 90 })
      .toFile(path);
    const r = expectOk(await engine.processFile(path));
    const missed: string[] = [];
    for (const { cut, x, y } of placed) {
      const dx = Math.min(x, W - 100), dy = Math.min(y, H - 100);
      const want: Box = [cut.box[0] + dx, cut.box[1] + dy, cut.box[2] + dx, cut.box[3] + dy];
      if (!r.faces.some((f) => iou(f.box, want) > 0.5)) missed.push(want.map(Math.round).join(','));
    }
    expect(missed, `found ${JSON.stringify(r.faces.map((f) => [f.box.map(Math.round), f.detScore.toFixed(2)]))}`).toEqual([]);
  });
});
