// npm run gpu:install on a host without an NVIDIA GPU: exits 1 before fetching anything, naming what is missing.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../packages/shared/src/config';

it('fails clearly without nvidia-smi and the CUDA 13 / cuDNN 9 libraries', () => {
  // A PATH with node alone hides nvidia-smi (and ldconfig) even on a GPU machine, so nothing is downloaded here.
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'gpu-install.mjs')], {
    encoding: 'utf8',
    env: { PATH: dirname(process.execPath), LD_LIBRARY_PATH: '' },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/this host cannot run the CUDA provider/);
  expect(r.stderr).toMatch(/`nvidia-smi` is not installed/);
  for (const lib of ['libcuda.so.1', 'libcudart.so.13', 'libcublas.so.13', 'libcudnn.so.9']) expect(r.stderr).toContain(lib);
  expect(r.stdout).not.toMatch(/fetching/);
});
