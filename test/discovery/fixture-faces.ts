// Face records of fixture photos computed with the real engine, shaped as discovery's DiscoveryFace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnginePool } from '@facesets/shared/engine/pool';
import type { DiscoveryFace } from '@facesets/shared/clustering/types';
import { FIXTURES_DIR } from '../support/test-env';

export { FIXTURES_DIR };

/** labels.csv: fixture-relative path → identity. */
export function fixtureLabels(): Map<string, string> {
  const rows = readFileSync(join(FIXTURES_DIR, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  return new Map(rows.map((l) => l.split(',') as [string, string]));
}

/** Every face of the given files (absolute paths); byte-duplicates become one source with all their paths. */
export async function facesOf(pool: EnginePool, files: string[]): Promise<DiscoveryFace[]> {
  const results = await Promise.all(files.map((f) => pool.process(f)));
  const bySha = new Map<string, { paths: string[]; faces: DiscoveryFace[] }>();
  for (const r of results) {
    if (!r.ok) throw new Error(`fixture ${r.path} did not decode: ${r.error}`);
    const entry = bySha.get(r.sha256);
    if (entry) {
      entry.paths.push(r.path);
      continue;
    }
    const paths = [r.path];
    bySha.set(r.sha256, { paths, faces: r.faces.map((f, faceIndex) => ({ ...f, sha256: r.sha256, faceIndex, paths })) });
  }
  for (const e of bySha.values()) e.paths.sort();
  return [...bySha.values()].flatMap((e) => e.faces);
}
