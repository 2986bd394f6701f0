import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuntime } from './runtime';

describe('loadRuntime', () => {
  it('gives the npm CPU build for cpu', () => {
    const rt = loadRuntime('cpu');
    expect(rt.provider).toBe('cpu');
    expect(rt.version).toMatch(/^1\.\d+\.\d+/);
    expect(typeof rt.ort.InferenceSession.create).toBe('function');
  });

  it('asks for npm run gpu:install when the CUDA build is not installed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'facesets-gpu-'));
    try {
      expect(() => loadRuntime('cuda', dir)).toThrow(/EXECUTION_PROVIDER=cuda needs .* run `npm run gpu:install`/);
      await mkdir(join(dir, 'node_modules', 'onnxruntime-node'), { recursive: true });
      await writeFile(join(dir, 'installed.json'), JSON.stringify({ ortVersion: '1.0.0' }));
      expect(() => loadRuntime('cuda', dir)).toThrow(/holds ONNX Runtime 1\.0\.0, expected 1\.29\.0: run `npm run gpu:install` again/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
