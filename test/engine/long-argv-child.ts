// Child process of long-argv.test.ts: runs the real engine (in the pool's worker thread, or in this thread)
// on one photo while its own command line carries thousands of long paths.
import { readFileSync } from 'node:fs';
import { EnginePool } from '../../packages/shared/src/engine/pool';
import { createEngine, MODEL_DIR } from './helpers';

const [mode, photo] = process.argv.slice(2) as ['pool' | 'engine', string];
const cmdlineBytes = readFileSync('/proc/self/cmdline').length;
let faces: number;
if (mode === 'pool') {
  const pool = await EnginePool.create({ modelDir: MODEL_DIR, workers: 1, intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 100_000_000 });
  const r = await pool.process(photo);
  await pool.close();
  faces = r.ok ? r.faces.length : -1;
} else {
  const engine = await createEngine();
  const r = await engine.processFile(photo);
  await engine.close();
  faces = r.ok ? r.faces.length : -1;
}
process.stdout.write(`${JSON.stringify({ mode, cmdlineBytes, faces })}\n`);
