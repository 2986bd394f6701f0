// Picks the ONNX Runtime build for an execution provider: npm's onnxruntime-node for CPU, .gpu/'s (npm run gpu:install) for CUDA.
// Both builds' native library is libonnxruntime.so.1, and a process holds one: whichever loads first is the only one
// it can use, so nothing may import onnxruntime-node's values directly (types only); they come from here, lazily.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT, type ExecutionProvider } from '../config';
import gpuRuntime from './gpu-runtime.json' with { type: 'json' };
import { prepareOrtProcess } from './ort-env';

/** The onnxruntime-node module; the GPU build (1.29) has the same API as the CPU one's types (1.30). */
export type Ort = typeof import('onnxruntime-node');

const requireHere = createRequire(import.meta.url);

/** require() of one build, with the one-build-per-process clash explained. */
function requireOrt(location: string, provider: ExecutionProvider): Ort {
  try {
    return requireHere(location) as Ort;
  } catch (err) {
    const msg = (err as Error).message;
    if (/VERS_\d|version `/.test(msg)) {
      throw new Error(
        `cannot load the ${provider === 'cuda' ? 'CUDA' : 'CPU'} build of ONNX Runtime: this process already loaded the other build ` +
          `(one libonnxruntime per process; run CPU and CUDA engines in separate processes): ${msg}`,
        { cause: err },
      );
    }
    throw err;
  }
}

export interface OrtRuntime {
  ort: Ort;
  provider: ExecutionProvider;
  /** onnxruntime-node version of the build in use. */
  version: string;
  /** Folder of the onnxruntime-node package in use. */
  location: string;
}

export const GPU_RUNTIME_DIR = join(REPO_ROOT, gpuRuntime.dir);

/** The runtime for `provider`; CUDA without `npm run gpu:install` is an error that says so. */
export function loadRuntime(provider: ExecutionProvider, gpuDir: string = GPU_RUNTIME_DIR): OrtRuntime {
  prepareOrtProcess(); // before any session: the first one creates the process's ORT environment
  if (provider === 'cpu') {
    const ort = requireOrt('onnxruntime-node', provider);
    return { ort, provider, version: ort.env.versions.node ?? 'unknown', location: 'node_modules/onnxruntime-node' };
  }
  const marker = join(gpuDir, 'installed.json');
  const location = join(gpuDir, 'node_modules', 'onnxruntime-node');
  if (!existsSync(marker) || !existsSync(location)) {
    throw new Error(`EXECUTION_PROVIDER=cuda needs ONNX Runtime's CUDA build in ${gpuDir}: run \`npm run gpu:install\` on this GPU host`);
  }
  const installed = JSON.parse(readFileSync(marker, 'utf8')) as { ortVersion?: string };
  if (installed.ortVersion !== gpuRuntime.ortVersion) {
    throw new Error(`${gpuDir} holds ONNX Runtime ${installed.ortVersion}, expected ${gpuRuntime.ortVersion}: run \`npm run gpu:install\` again`);
  }
  // A CommonJS package outside the workspace: loaded by path, so its onnxruntime-common (and Tensor class) is its own.
  const ort = requireOrt(location, provider);
  return { ort, provider, version: ort.env.versions.node ?? gpuRuntime.ortVersion, location };
}
