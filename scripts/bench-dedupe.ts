// Near-duplicate shots, measured on the fixtures (curation/duplicates.ts): how many distinct labelled photos of one
// person the rule would call one shot, and how many copies made with sharp it catches; with --pairs, every
// pair's evidence (embedding distance, shot-thumbnail correlation, pose difference) to choose thresholds from.
//   npm run bench:dedupe [-- --pairs]
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from '../packages/shared/src/config';
import { DEFAULT_DEDUPE, mirrored, sameShotEither, shotEvidence, type ShotFace } from '../packages/shared/src/curation/duplicates';
import { FaceEngine } from '../packages/shared/src/engine/engine';
import type { Face } from '../packages/shared/src/engine/types';
import { loadModelPack } from '../packages/shared/src/models/model-pack';

const fixtures = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));
const showPairs = process.argv.includes('--pairs');
const engine = await FaceEngine.create({ pack: loadModelPack(join(REPO_ROOT, 'models')), intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 1e8 });
const tmp = await mkdtemp(join(tmpdir(), 'facesets-dedupe-'));

/** The largest face of a photo, as curation sees it. */
async function largest(file: string): Promise<(Face & ShotFace) | null> {
  const r = await engine.processFile(file);
  if (!r.ok || r.faces.length === 0) return null;
  const f = r.faces.reduce((a, b) => (b.faceShort > a.faceShort ? b : a));
  return f.shot && f.pose ? { ...f, shot: f.shot, pose: f.pose } : null;
}

/** The copies the issue names: resize 0.75 + JPEG q70; 4 % crop + brightness 1.08 as PNG; rotation by 3°. */
const COPIES: { name: string; make: (src: string, out: string) => Promise<void> }[] = [
  {
    name: 'resize 0.75 + JPEG q70',
    make: async (src, out) => {
      const m = await sharp(src).rotate().metadata();
      const w = Math.round((m.autoOrient?.width ?? m.width!) * 0.75);
      await sharp(src).rotate().resize({ width: w }).jpeg({ quality: 70 }).toFile(out);
    },
  },
  {
    name: '4 % crop + brightness 1.08 as PNG',
    make: async (src, out) => {
      const buf = await sharp(src).rotate().toBuffer();
      const m = await sharp(buf).metadata();
      const dx = Math.round(m.width! * 0.04), dy = Math.round(m.height! * 0.04);
      await sharp(buf).extract({ left: dx, top: dy, width: m.width! - 2 * dx, height: m.height! - 2 * dy }).modulate({ brightness: 1.08 }).png().toFile(out);
    },
  },
  { name: 'rotation by 3°', make: async (src, out) => void (await sharp(src).rotate().rotate(3, { background: '#808080' }).png().toFile(out)) },
];

/** Copies beyond the issue's three, printed apart: a mirror image and a larger rotation are the same shot too. */
const MORE_COPIES: typeof COPIES = [
  { name: 'mirror', make: async (src, out) => void (await sharp(src).rotate().flop().png().toFile(out)) },
  { name: 'rotation by 15°', make: async (src, out) => void (await sharp(src).rotate().rotate(15, { background: '#808080' }).png().toFile(out)) },
];

try {
  const labels = (await readFile(join(fixtures, 'labels.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
  const photos: { path: string; who: string; face: Face & ShotFace; sha: string }[] = [];
  const seen = new Set<string>();
  for (const [path, who] of labels) {
    const r = await engine.processFile(join(fixtures, path!));
    if (!r.ok || seen.has(r.sha256)) continue; // byte-duplicates are one source already
    seen.add(r.sha256);
    const face = await largest(join(fixtures, path!));
    if (face) photos.push({ path: path!, who: who!, face, sha: r.sha256 });
  }
  let distinctPairs = 0;
  const collapsed: string[] = [];
  const rows: string[] = [];
  for (let i = 0; i < photos.length; i++) {
    for (let j = i + 1; j < photos.length; j++) {
      const a = photos[i]!, b = photos[j]!;
      if (a.who !== b.who) continue;
      distinctPairs++;
      const e = shotEvidence(a.face, b.face), m = shotEvidence(a.face, mirrored(b.face));
      if (showPairs) rows.push(`distinct ${a.path} ~ ${b.path}: ${fmt(e)}; mirrored: ${fmt(m)}`);
      if (sameShotEither(a.face, b.face)) collapsed.push(`${a.path} ~ ${b.path} (${fmt(e)}; mirrored: ${fmt(m)})`);
    }
  }
  const caught = new Map<string, number>();
  let copies = 0;
  for (const p of photos) {
    for (const [k, c] of [...COPIES, ...MORE_COPIES].entries()) {
      const out = join(tmp, `${p.path.replaceAll('/', '_')}.copy${k}.${k === 0 ? 'jpg' : 'png'}`);
      await c.make(join(fixtures, p.path), out);
      const face = await largest(out);
      if (k < COPIES.length) copies++;
      if (!face) {
        if (showPairs) rows.push(`copy     ${p.path} [${c.name}]: no face found`);
        continue;
      }
      const e = shotEvidence(p.face, face), m = shotEvidence(p.face, mirrored(face));
      if (showPairs) rows.push(`copy     ${p.path} [${c.name}]: ${fmt(e)}; mirrored: ${fmt(m)}`);
      if (sameShotEither(p.face, face)) caught.set(c.name, (caught.get(c.name) ?? 0) + 1);
    }
  }
  const lines = [
    ...rows,
    `rule        embedding distance ≤ ${DEFAULT_DEDUPE.maxDistance}, shot-thumbnail correlation ≥ ${DEFAULT_DEDUPE.minSimilarity} (of one flipped: ≥ ${DEFAULT_DEDUPE.minMirrorSimilarity}), yaw and pitch within ${DEFAULT_DEDUPE.maxPoseDelta}°`,
    `distinct    ${collapsed.length} of ${distinctPairs} pairs of distinct labelled photos of one person called one shot (${photos.length} photos, ${new Set(photos.map((p) => p.who)).size} people)`,
    ...collapsed.map((c) => `            ${c}`),
    `copies      ${COPIES.reduce((n, c) => n + (caught.get(c.name) ?? 0), 0)} of ${copies} sharp-made copies caught: ${COPIES.map((c) => `${c.name} ${caught.get(c.name) ?? 0}/${photos.length}`).join(', ')}`,
    `more        ${MORE_COPIES.map((c) => `${c.name} ${caught.get(c.name) ?? 0}/${photos.length}`).join(', ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await rm(tmp, { recursive: true, force: true });
  await engine.close();
}

function fmt(e: ReturnType<typeof shotEvidence>): string {
  return `distance ${e.distance.toFixed(3)}, similarity ${e.similarity.toFixed(3)}, pose Δ ${e.poseDelta.toFixed(1)}°`;
}
