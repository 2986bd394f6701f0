// Real face embeddings for the discovery benchmark: every face of the fixture photos, embedded by the real engine.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EnginePool, loadConfig } from '@facesets/shared';

export interface RealFaces {
  embeddings: Float32Array[];
  /** Identity of each face: its people/<identity>/ folder, or its file for faces of group and misc photos. */
  labels: string[];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

export async function loadRealFaces(fixturesDir: string): Promise<RealFaces> {
  const config = loadConfig(process.env);
  const pool = await EnginePool.create({
    modelDir: config.modelDir,
    workers: 1,
    intraOpThreads: 2,
    executionProvider: 'cpu',
    maxImagePixels: config.maxImagePixels,
  });
  try {
    const files = await filesUnder(fixturesDir);
    const out: RealFaces = { embeddings: [], labels: [] };
    for (const f of files) {
      const r = await pool.process(f);
      if (!r.ok) continue;
      const person = /\/people\/([^/]+)\//.exec(f)?.[1];
      r.faces.forEach((face, k) => {
        out.embeddings.push(face.embedding);
        out.labels.push(person ?? `${f}#${k}`);
      });
    }
    return out;
  } finally {
    await pool.close();
  }
}


