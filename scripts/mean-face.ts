// Prints the 2-D mean of the landmark model's 68 points over the fixtures' faces (each face similarity-aligned onto
// the ArcFace template by its 5 points, then mirror-symmetrised): the x, y of curation/pose.ts's mean face.
//   tsx scripts/mean-face.ts
import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from '../packages/shared/src/config';
import { applyAffine, arcfaceTransform } from '../packages/shared/src/engine/align';
import { createSession, FaceEngine } from '../packages/shared/src/engine/engine';
import { fivePoints, LANDMARK_INPUT_DIMS, LandmarkModel } from '../packages/shared/src/engine/landmark';
import { SessionModel } from '../packages/shared/src/engine/onnx-model';
import { loadRuntime } from '../packages/shared/src/engine/runtime';
import type { Point } from '../packages/shared/src/engine/types';
import { MIRROR_68 } from '../packages/shared/src/curation/pose';
import { loadModelPack } from '../packages/shared/src/models/model-pack';

const fixtures = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));
const pack = loadModelPack(join(REPO_ROOT, 'models'));
const opts = { intraOpThreads: 1, executionProvider: 'cpu' as const };
const engine = await FaceEngine.create({ pack, ...opts, maxImagePixels: 1e8 });
const runtime = loadRuntime('cpu');
const landmarker = new LandmarkModel(new SessionModel(runtime.ort, await createSession(runtime.ort, pack.landmark, opts), LANDMARK_INPUT_DIMS, 1));
const photos = (await readdir(fixtures, { recursive: true })).filter((f) => ['.jpg', '.jpeg', '.png'].includes(extname(f).toLowerCase())).sort();
const sum = Array.from({ length: 68 }, () => [0, 0]);
let n = 0;
for (const p of photos) {
  const r = await engine.processFile(join(fixtures, p));
  if (!r.ok) continue;
  const { data, info } = await sharp(join(fixtures, p)).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const img = { data: new Uint8Array(data), width: info.width, height: info.height };
  for (const f of r.faces) {
    if (f.faceShort < 60) continue;
    const pts = (await landmarker.landmarks68([{ img, box: f.box }]))[0]!;
    const m = arcfaceTransform(fivePoints(pts));
    // Each face counts once as seen and once mirrored (x → 112 − x, points renumbered), so the mean is symmetric.
    pts.forEach((q, i) => {
      const [x, y] = applyAffine(m, q);
      sum[i]![0]! += x; sum[i]![1]! += y;
      sum[MIRROR_68[i]!]![0]! += 112 - x; sum[MIRROR_68[i]!]![1]! += y;
    });
    n += 2;
  }
}
await engine.close();
const mean: Point[] = sum.map(([x, y]) => [+(x! / n - 56).toFixed(2), +(y! / n).toFixed(2)]);
process.stdout.write(`${n / 2} faces\n${JSON.stringify(mean)}\n`);
