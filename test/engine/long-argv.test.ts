// A process whose command line is very long (2,000 long paths) can still run the engine, in a worker thread
// and in its main thread: onnxruntime's telemetry used to overflow the native stack on it (see ort-env.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../packages/shared/src/config';
import { FIXTURES } from './helpers';

const CHILD = join(REPO_ROOT, 'test/engine/long-argv-child.ts');
/** 2,000 paths of 95 characters: ~190 kB of argv, 13× what crashed a worker thread, 6.6× the main thread. */
const LONG_PATHS = Array.from({ length: 2000 }, (_, i) => `/srv/photo-library/2019/summer holidays with the family/camera roll/IMG_${String(i).padStart(5, '0')}_edited_final.jpeg`);

function runChild(mode: 'pool' | 'engine'): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  // The child must not inherit a telemetry switch from this process: the engine has to set it itself.
  const env = { ...process.env };
  delete env.ORT_DISABLE_TELEMETRY;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, join(FIXTURES, 'people/obama/obama4.jpg'), ...LONG_PATHS], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('a process with 2,000 long paths on its command line', () => {
  for (const mode of ['pool', 'engine'] as const) {
    it(`runs the engine (${mode === 'pool' ? 'EnginePool worker thread' : 'FaceEngine in the main thread'})`, async () => {
      const r = await runChild(mode);
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      const out = JSON.parse(r.stdout) as { cmdlineBytes: number; faces: number };
      expect(out.cmdlineBytes).toBeGreaterThan(180_000);
      expect(out.faces).toBe(1);
    });
  }
});
