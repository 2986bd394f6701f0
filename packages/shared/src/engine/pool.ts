// EnginePool: N inference worker threads behind one queue, so ONNX runs never block the caller's event loop.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadModelPack, type ModelPack } from '../models/model-pack';
import type { FaceEngineOptions } from './engine';
import type { WorkerMessage, WorkerRequest } from './engine-worker';
import { prepareOrtProcess } from './ort-env';
import type { FileResult, ProcessOptions } from './types';

export interface EnginePoolOptions {
  modelDir: string;
  workers: number;
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  maxImagePixels: number;
  /** sha256-check the model files once, here, before any worker starts [true]. */
  verifyModels?: boolean;
}

interface Job {
  id: number;
  path: string;
  opts: ProcessOptions;
  resolve: (r: FileResult) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  lastError: string | undefined;
}

const WORKER_PATH = fileURLToPath(new URL('./engine-worker.ts', import.meta.url));

/**
 * Boot code of a worker: engine-worker.ts is TypeScript, and on Node 20 ESM loader hooks (`--import tsx`
 * in the worker's execArgv, or tsx/esm imported inside it) do not reach a worker's own imports (measured:
 * "Unknown file extension .ts" under tsx, tsx's register() API and vitest alike). tsx's CommonJS API
 * compiles the worker's module graph on require and works in all three; the engine code has no
 * top-level await, so loading it as CommonJS is safe.
 */
function workerBoot(): string {
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
  return `require(${JSON.stringify(tsxCjs)}).require(${JSON.stringify(WORKER_PATH)}, ${JSON.stringify(WORKER_PATH)});`;
}

function spawnWorker(data: FaceEngineOptions): Worker {
  // execArgv: [] keeps the parent's loader flags (tsx, vitest) out of the worker; the boot code loads tsx.
  return new Worker(workerBoot(), { eval: true, workerData: data, execArgv: [] });
}

export class EnginePool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  private brokenReason: string | undefined;
  private readonly engineOptions: FaceEngineOptions;

  private constructor(
    private readonly pack: ModelPack,
    opts: EnginePoolOptions,
  ) {
    this.engineOptions = {
      pack,
      intraOpThreads: opts.intraOpThreads,
      executionProvider: opts.executionProvider,
      maxImagePixels: opts.maxImagePixels,
    };
  }

  /** Verifies the model pack and starts every worker; a missing/altered model or a failed start throws. */
  static async create(opts: EnginePoolOptions): Promise<EnginePool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new Error(`EnginePool: workers must be a positive integer, got ${opts.workers}`);
    }
    const pack = loadModelPack(opts.modelDir, opts.verifyModels ?? true);
    prepareOrtProcess();
    const pool = new EnginePool(pack, opts);
    const started = await Promise.allSettled(Array.from({ length: opts.workers }, () => pool.startWorker()));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await pool.close();
      throw new Error(`engine pool: a worker failed to start: ${(failed.reason as Error).message}`, { cause: failed.reason });
    }
    return pool;
  }

  get modelPackId(): string {
    return this.pack.id;
  }

  /** Resolves with the file's result, an error result included; never rejects once the pool is open. */
  process(path: string, opts: ProcessOptions = {}): Promise<FileResult> {
    if (this.closing) return Promise.reject(new Error(`engine pool is closed (while submitting ${path})`));
    if (this.brokenReason !== undefined) {
      return Promise.resolve({ ok: false, path, error: `engine: no worker available (${this.brokenReason})` });
    }
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, path, opts, resolve });
      this.pump();
    });
  }

  /** Queued files resolve as errors; files in flight finish; then the workers stop. */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, path: job.path, error: 'engine: pool closed before the file was processed' });
    await Promise.all(
      [...this.slots].map(async (slot) => {
        while (slot.job) await new Promise((r) => setTimeout(r, 10));
        await slot.worker.terminate();
      }),
    );
    this.slots.clear();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      const req: WorkerRequest = { id: job.id, path: job.path, opts: job.opts };
      slot.worker.postMessage(req);
    }
  }

  /** Starts one worker; resolves once its sessions are loaded, and keeps it replaced if it ever dies. */
  private startWorker(): Promise<void> {
    return new Promise((resolve, reject) => {
      const slot: Slot = { worker: spawnWorker(this.engineOptions), job: undefined, lastError: undefined };
      let ready = false;
      slot.worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          ready = true;
          this.slots.add(slot);
          resolve();
          this.pump();
        } else if (msg.type === 'init-error') {
          slot.lastError = msg.message;
          void slot.worker.terminate();
        } else if (slot.job?.id === msg.id) {
          const job = slot.job;
          slot.job = undefined;
          job.resolve(msg.result);
          this.pump();
        }
      });
      slot.worker.on('error', (err) => {
        slot.lastError = err.message;
      });
      slot.worker.on('exit', (code) => {
        this.slots.delete(slot);
        if (!ready) {
          reject(new Error(slot.lastError ?? `worker exited with code ${code} before it was ready`));
          return;
        }
        if (this.closing) return;
        const why = `engine worker died (exit code ${code}${slot.lastError ? `: ${slot.lastError}` : ''})`;
        if (slot.job) slot.job.resolve({ ok: false, path: slot.job.path, error: `${why} while processing the file` });
        slot.job = undefined;
        this.replaceWorker(why);
      });
    });
  }

  private replaceWorker(why: string): void {
    this.startWorker().catch((err: Error) => {
      if (this.slots.size > 0 || this.closing) return;
      // Nothing left to run on: fail what waits rather than hang.
      this.brokenReason = `${why}; restarting it failed: ${err.message}`;
      for (const job of this.queue.splice(0)) job.resolve({ ok: false, path: job.path, error: `engine: ${this.brokenReason}` });
    });
  }
}
