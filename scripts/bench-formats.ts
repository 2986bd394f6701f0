// Cost of each format per face: wall time to write it from the records (decode + 68 landmarks + render + write),
// the time of a second build that reuses unchanged files (what a decision costs), and bytes on disk per face.
// Usage: npm run bench:formats [-- <photos per person, default 5>]
import { readdir, rm, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaceEngine } from '@facesets/shared/engine/engine';
import { closeLandmarks, landmarks68Provider } from '@facesets/shared/formats/landmarks';
import { DEFAULT_FORMAT_PARAMS, FORMATS, writeFormats, type FormatSet } from '@facesets/shared/formats/write-formats';
import { decodeImage } from '@facesets/shared/image/decode';
import { createLogger } from '@facesets/shared/logger';
import { loadModelPack } from '@facesets/shared/models/model-pack';
import { REPO_ROOT } from '@facesets/shared/config';

const fixtures = process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces');
const perPerson = Number(process.argv[2] ?? 5);
const models = join(REPO_ROOT, 'models');
const engine = await FaceEngine.create({ pack: loadModelPack(models), intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 1e8 });
const bucket = join(fixtures, 'people');
const sets: FormatSet[] = [];
for (const person of (await readdir(bucket)).sort()) {
  const faces = [];
  for (const file of (await readdir(join(bucket, person))).sort().slice(0, perPerson)) {
    const r = await engine.processFile(join(bucket, person, file));
    const f = r.ok ? r.faces[0] : undefined;
    if (r.ok && f) faces.push({ sha256: r.sha256, faceIndex: 0, box: f.box, kps: f.kps, paths: [join(bucket, person, file)] });
  }
  if (faces.length) sets.push({ name: person, label: person, bucket, faces });
}
await engine.close();
const n = sets.reduce((a, s) => a + s.faces.length, 0);
const deps = { decodeImage: (p: string) => decodeImage(p, { maxPixels: 1e8 }), landmarks68: landmarks68Provider(models), log: createLogger('bench-formats', 'silent') };
// warm the landmark model once, outside the timings
await writeFormats(await mkdtemp(join(tmpdir(), 'bench-formats-warm-')), ['dfl'], [{ ...sets[0]!, faces: sets[0]!.faces.slice(0, 1) }], DEFAULT_FORMAT_PARAMS, deps);

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await du(p) : (await stat(p)).size;
  }
  return total;
}

console.log(`${n} faces in ${sets.length} sets (fixture people, ${perPerson} photos each); defaults: dfl whole_face 512 px, faceswap 512 px, lora 1024 px`);
console.log('format    first build ms/face   rebuild (all reused) ms/face   kB/face');
for (const f of FORMATS) {
  const root = await mkdtemp(join(tmpdir(), `bench-formats-${f}-`));
  let t = performance.now();
  await writeFormats(root, [f], sets, DEFAULT_FORMAT_PARAMS, deps);
  const first = (performance.now() - t) / n;
  t = performance.now();
  await writeFormats(root, [f], sets, DEFAULT_FORMAT_PARAMS, deps);
  const again = (performance.now() - t) / n;
  const kb = (await du(join(root, '_formats', f))) / n / 1024;
  console.log(`${f.padEnd(9)} ${first.toFixed(1).padStart(19)} ${again.toFixed(2).padStart(30)} ${kb.toFixed(1).padStart(9)}`);
  await rm(root, { recursive: true, force: true });
}
await closeLandmarks();
