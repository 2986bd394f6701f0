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

/** A head-and-shoulders cut around a photo's face, scaled so its detector box is `height` px tall. */
async function faceCut(photo: string, height: number): Promise<{ png: Buffer; box: Box }> {
  const face = bestFace(await engine.processFile(photo));
  const [x1, y1, x2, y2] = face.box;
  const meta = await sharp(photo).metadata();
  const w = x2 - x1, h = y2 - y1;
  const left = Math.max(0, Math.round(x1 - w * 0.6)), top = Math.max(0, Math.round(y1 - h * 0.4));
  const cw = Math.min(meta.width! - left, Math.round(w * 2.2)), ch = Math.min(meta.height! - top, Math.round(h * 1.9));
  const s = height / h;
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
});
