// Writes the faces this checkout's engine finds on the fixtures (and on their 12 MP renders) as the golden file
// test/engine/golden-faces.test.ts compares against. Run it from the checkout whose answers are the reference
// (the committed file came from commit 7393009, before issue 9, with this script and test/engine/camera-photos.ts
// copied into it):  tsx scripts/golden-faces.ts OUT.json [LABEL]
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { FaceEngine } from '../packages/shared/src/engine/engine';
import { loadModelPack } from '../packages/shared/src/models/model-pack';
import { REPO_ROOT } from '../packages/shared/src/config';
import { CAMERA_RENDERS, renderCameraPhoto } from '../test/engine/camera-photos';

const [out, label = 'unlabelled'] = process.argv.slice(2);
if (!out) throw new Error('usage: tsx scripts/golden-faces.ts OUT.json [LABEL]');
const fixtures = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));
const engine = await FaceEngine.create({ pack: loadModelPack(join(REPO_ROOT, 'models')), intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 1e8 });
const photos = (await readdir(fixtures, { recursive: true })).filter((f) => ['.jpg', '.jpeg', '.png'].includes(extname(f).toLowerCase())).sort();
const tmp = await mkdtemp(join(tmpdir(), 'facesets-golden-'));
const entries: unknown[] = [];

/** int8 of v / max|v| (base64) and max: 512 bytes a face, a cosine error far below what the test allows. */
function quantise(v: Float32Array): { max: number; q: string } {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  return { max, q: Buffer.from(Int8Array.from(v, (x) => Math.round((x / max) * 127)).buffer).toString('base64') };
}

async function add(photo: string, path: string, render?: string): Promise<void> {
  const r = await engine.processFile(path);
  if (!r.ok) throw new Error(r.error);
  entries.push({
    photo,
    ...(render ? { render } : {}),
    width: r.width,
    height: r.height,
    faces: r.faces.map((f) => ({
      box: f.box.map((v) => +v.toFixed(2)),
      kps: f.kps.map((p) => p.map((v) => +v.toFixed(2))),
      detScore: +f.detScore.toFixed(4),
      embedding: quantise(f.embedding),
    })),
  });
}

try {
  for (const p of photos) await add(p, join(fixtures, p));
  for (const p of CAMERA_RENDERS) await add(p, await renderCameraPhoto(join(fixtures, p), join(tmp, `${p.replaceAll('/', '_')}.jpg`)), '4000x3000');
  await writeFile(out, `${JSON.stringify({ generatedBy: label, photos: entries })}\n`);
  process.stdout.write(`${entries.length} photos → ${out}\n`);
} finally {
  await rm(tmp, { recursive: true, force: true });
  await engine.close();
}
