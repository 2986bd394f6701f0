// Head pose on real photos obeys its sign convention: a mirrored copy flips yaw and roll and keeps pitch, a copy
// rotated clockwise by θ has roll + θ (within 6°), and a re-measure of the cached boxes gives the engine's pose.
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import type { Face } from '../../packages/shared/src/engine/types';
import { bestFace, copyFixtures, createEngine, expectOk } from '../engine/helpers';

const PHOTOS = ['people/obama/obama.jpg', 'people/obama/obama2.jpg', 'people/biden/biden.jpg', 'people/amy/amy1.png', 'people/penny/penny2.png', 'people/kit_harington/john1.jpeg'];
const TOL = 6;

let dir: string;
let cleanup: () => Promise<void>;
let engine: FaceEngine;

beforeAll(async () => {
  ({ dir, cleanup } = await copyFixtures());
  engine = await createEngine();
});

afterAll(async () => {
  await engine?.close();
  await cleanup?.();
});

const wrap = (deg: number): number => ((((deg + 180) % 360) + 360) % 360) - 180;

async function poseOf(file: string): Promise<NonNullable<Face['pose']>> {
  const pose = bestFace(await engine.processFile(file)).pose;
  if (!pose) throw new Error(`no pose for ${file}`);
  return pose;
}

describe('head pose on the fixtures', () => {
  it.each(PHOTOS)('%s: mirror flips yaw and roll, keeps pitch; rotation by θ adds θ to roll', async (photo) => {
    const src = join(dir, photo);
    const base = await poseOf(src);
    const mirrored = join(dir, `${photo.replaceAll('/', '_')}.mirror.png`);
    await sharp(src).flop().png().toFile(mirrored);
    const m = await poseOf(mirrored);
    expect(Math.abs(m.yaw + base.yaw), `mirror yaw ${m.yaw} vs ${base.yaw}`).toBeLessThan(TOL);
    expect(Math.abs(m.pitch - base.pitch), `mirror pitch ${m.pitch} vs ${base.pitch}`).toBeLessThan(TOL);
    expect(Math.abs(m.roll + base.roll), `mirror roll ${m.roll} vs ${base.roll}`).toBeLessThan(TOL);
    for (const theta of [15, -15, 30]) {
      const rotated = join(dir, `${photo.replaceAll('/', '_')}.rot${theta}.png`);
      // sharp rotates clockwise for a positive angle; the corners it opens are filled grey.
      await sharp(src).rotate(theta, { background: '#808080' }).png().toFile(rotated);
      const r = await poseOf(rotated);
      expect(Math.abs(wrap(r.roll - base.roll - theta)), `rot ${theta}: roll ${r.roll} vs ${base.roll}`).toBeLessThan(TOL);
      expect(Math.abs(r.yaw - base.yaw), `rot ${theta}: yaw ${r.yaw} vs ${base.yaw}`).toBeLessThan(TOL);
      expect(Math.abs(r.pitch - base.pitch), `rot ${theta}: pitch ${r.pitch} vs ${base.pitch}`).toBeLessThan(TOL);
    }
  });

  it('a re-measure of the known boxes gives the same keypoints, blur, pose and shot thumbnail, with no embedding', async () => {
    const file = join(dir, 'groups', (await import('node:fs/promises').then((fs) => fs.readdir(join(dir, 'groups'))))[0]!);
    const full = expectOk(await engine.processFile(file));
    const again = expectOk(await engine.processFile(file, { knownBoxes: full.faces.map((f) => f.box) }));
    expect(again.faces).toHaveLength(full.faces.length);
    again.faces.forEach((f, i) => {
      const g = full.faces[i]!;
      expect(f.embedding.length).toBe(0);
      expect(f.blur).toBeCloseTo(g.blur, 3);
      expect(f.kps).toEqual(g.kps);
      expect(f.pose).toEqual(g.pose);
      expect(Buffer.from(f.shot!).equals(Buffer.from(g.shot!))).toBe(true);
    });
  });
});
