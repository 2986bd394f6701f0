// How the appearance-era threshold splits one person: appearance eras of each labelled fixture person per threshold.
// Usage: npx tsx scripts/era-threshold.ts [fixtures dir] — prints, per threshold, the eras each person falls into.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EnginePool, loadConfig, REPO_ROOT } from '@facesets/shared';
import { cosineDistance } from '@facesets/shared/clustering/vectors';
import { splitEras, type EraFace } from '@facesets/shared/eras/split-eras';

const THRESHOLDS = [0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55];

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));
  const rows = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',') as [string, string]);
  const config = loadConfig();
  const pool = await EnginePool.create({ modelDir: config.modelDir, workers: 2, intraOpThreads: 1, executionProvider: config.executionProvider, maxImagePixels: config.maxImagePixels });
  const byPerson = new Map<string, EraFace[]>();
  try {
    for (const [rel, person] of rows) {
      const r = await pool.process(join(dir, rel));
      if (!r.ok || !r.faces.length) continue;
      // A portrait: its most confident face is the person.
      const face = [...r.faces].sort((a, b) => b.detScore - a.detScore)[0]!;
      const list = byPerson.get(person) ?? [];
      if (!list.some((f) => f.sha256 === r.sha256)) list.push({ sha256: r.sha256, embedding: face.embedding, capturedAt: null });
      byPerson.set(person, list);
    }
  } finally {
    await pool.close();
  }
  const people = [...byPerson].filter(([, f]) => f.length >= 2).sort((a, b) => a[0].localeCompare(b[0]));
  const within = people.flatMap(([, f]) => f.flatMap((a, i) => f.slice(i + 1).map((b) => cosineDistance(a.embedding, b.embedding)))).sort((a, b) => a - b);
  const q = (p: number) => within[Math.min(within.length - 1, Math.floor(p * within.length))]!.toFixed(3);
  console.log(`${people.length} people with ≥ 2 photos, ${within.length} same-person pairs: distance median ${q(0.5)}, p90 ${q(0.9)}, max ${q(1)}`);
  console.log(`threshold  people in one era  eras per person (${people.map(([p]) => p).join(' ')})`);
  for (const t of THRESHOLDS) {
    const counts: number[] = [];
    for (const [, faces] of people) counts.push((await splitEras(faces, 'appearance', { eraGapYears: 3, eraThreshold: t })).eras.length);
    console.log(`${t.toFixed(2).padStart(9)}  ${String(counts.filter((c) => c === 1).length).padStart(6)}/${people.length}           ${counts.join(' ')}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
