// EnginePool: N inference worker threads behind one queue, so ONNX runs never block the caller's event loop.
// With shared sessions (CUDA's default) the workers do the CPU work and one inference-server thread per GPU runs the models.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type Transferable } from 'node:worker_threads';
import type { Config } from '../config';
import { loadModelPack, type ModelPack } from '../models/model-pack';
import type { EngineInfo, FaceEngineOptions } from './engine';
import type { WorkerMessage, WorkerRequest } from './engine-worker';
import type { ConnectMessage, ServerMessage, ServerOptions } from './inference-server';
import { prepareOrtProcess } from './ort-env';
import type { FileResult, ProcessOptions } from './types';

export interface EnginePoolOptions {
  modelDir: string;
  workers: number;
  intraOpThreads: number;
  executionProvider: 'cpu' | 'cuda';
  maxImagePixels: number;
  /** Most items per ONNX run [1]. */
  batchSize?: number;
  /** CUDA devices, worker i on cudaDevices[i % length] [0]. */
  cudaDevices?: number[];
  /**
   * One set of sessions per device in an inference-server thread that every worker feeds, batching across images
   * [true for CUDA]; else each worker has its own sessions [CPU].
   */
  sharedSessions?: boolean;
  /** sha256-check the model files once, here, before any worker starts [true]. */
  verifyModels?: boolean;
}

/** The pool a service runs from its configuration. */
export function enginePoolOptions(config: Config): EnginePoolOptions {
  return {
    modelDir: config.modelDir,
    workers: config.engineWorkers,
    intraOpThreads: config.intraOpThreads,
    executionProvider: config.executionProvider,
    maxImagePixels: config.maxImagePixels,
    batchSize: config.engineBatchSize,
    cudaDevices: config.cudaDevices,
  };
}

interface Job {
  id: number;
  path: string;
  opts: ProcessOptions;
  resolve: (r: FileResult) => void;
}

interface Slot {
  worker: Worker;
  deviceId: number;
  job: Job | undefined;
  /** performance.now() when the current job was handed to the worker. */
  startedAt: number;
  lastError: string | undefined;
}

interface Server {
  worker: Worker;
  info: EngineInfo;
}

const WORKER_PATH = fileURLToPath(new URL('./engine-worker.ts', import.meta.url));
const SERVER_PATH = fileURLToPath(new URL('./inference-server.ts', import.meta.url));

/**
 * Boot code of a worker: engine-worker.ts is TypeScript, and on Node 20 ESM loader hooks (`--import tsx`
 * in the worker's execArgv, or tsx/esm imported inside it) do not reach a worker's own imports (measured:
 * "Unknown file extension .ts" under tsx, tsx's register() API and vitest alike). tsx's CommonJS API
 * compiles the worker's module graph on require and works in all three; the engine code has no
 * top-level await, so loading it as CommonJS is safe.
 */
function workerBoot(path: string): string {
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
  return `require(${JSON.stringify(tsxCjs)}).require(${JSON.stringify(path)}, ${JSON.stringify(path)});`;
}

function spawnWorker(data: FaceEngineOptions | ServerOptions, path = WORKER_PATH, transferList: Transferable[] = []): Worker {
  // execArgv: [] keeps the parent's loader flags (tsx, vitest) out of the worker; the boot code loads tsx.
  return new Worker(workerBoot(path), { eval: true, workerData: data, execArgv: [], transferList });
}

export class EnginePool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  private brokenReason: string | undefined;
  private readonly engineOptions: FaceEngineOptions;
  private readonly devices: number[];
  private readonly shared: boolean;
  private readonly servers = new Map<number, Server>();
  private engineInfo: EngineInfo | undefined;
  /** Time the workers spent on finished files (metrics: the engine's busy share). */
  private busyMs = 0;

  private constructor(
    private readonly pack: ModelPack,
    opts: EnginePoolOptions,
  ) {
    this.engineOptions = {
      pack,
      intraOpThreads: opts.intraOpThreads,
      executionProvider: opts.executionProvider,
      maxImagePixels: opts.maxImagePixels,
      batchSize: opts.batchSize ?? 1,
    };
    this.devices = opts.cudaDevices?.length ? opts.cudaDevices : [0];
    this.shared = opts.sharedSessions ?? opts.executionProvider === 'cuda';
  }

  /** Verifies the model pack and starts every worker; a missing/altered model or a failed start throws. */
  static async create(opts: EnginePoolOptions): Promise<EnginePool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new Error(`EnginePool: workers must be a positive integer, got ${opts.workers}`);
    }
    const pack = loadModelPack(opts.modelDir, opts.verifyModels ?? true);
    prepareOrtProcess();
    const pool = new EnginePool(pack, opts);
    if (pool.shared) {
      const servers = await Promise.allSettled(pool.devices.map((d) => pool.startServer(d)));
      const down = servers.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (down) {
        await pool.close();
        throw new Error(`engine pool: the inference server failed to start: ${(down.reason as Error).message}`, { cause: down.reason });
      }
    }
    const started = await Promise.allSettled(Array.from({ length: opts.workers }, (_, i) => pool.startWorker(pool.devices[i % pool.devices.length]!)));
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

  /** What the workers run on (provider, ONNX Runtime build, batch size) and on which CUDA devices. */
  get info(): EngineInfo & { workers: number; devices: number[] | undefined; sessions: 'per worker' | 'per device' } {
    const info = this.engineInfo;
    if (!info) throw new Error('engine pool: no worker has started');
    const devices = info.executionProvider === 'cuda' ? [...new Set([...this.slots].map((s) => s.deviceId))].sort() : undefined;
    return { ...info, deviceId: undefined, workers: this.slots.size, devices, sessions: this.shared ? 'per device' : 'per worker' };
  }

  /** Workers running, and the time they spent on files so far (files in flight counted up to now). */
  load(): { workers: number; busyMs: number } {
    const now = performance.now();
    let busy = this.busyMs;
    for (const slot of this.slots) if (slot.job) busy += now - slot.startedAt;
    return { workers: this.slots.size, busyMs: busy };
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
    await Promise.all([...this.servers.values()].map((s) => s.worker.terminate()));
    this.servers.clear();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.startedAt = performance.now();
      const req: WorkerRequest = { id: job.id, path: job.path, opts: job.opts };
      slot.worker.postMessage(req);
    }
  }

  /** Starts one worker; resolves once its sessions are loaded, and keeps it replaced if it ever dies. */
  private startWorker(deviceId: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const slot: Slot = { worker: this.spawnEngineWorker(deviceId), deviceId, job: undefined, startedAt: 0, lastError: undefined };
      let ready = false;
      slot.worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          ready = true;
          this.engineInfo = msg.info;
          this.slots.add(slot);
          resolve();
          this.pump();
        } else if (msg.type === 'init-error') {
          slot.lastError = msg.message;
          void slot.worker.terminate();
        } else if (slot.job?.id === msg.id) {
          const job = slot.job;
          slot.job = undefined;
          this.busyMs += performance.now() - slot.startedAt;
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
        if (slot.job) {
          this.busyMs += performance.now() - slot.startedAt;
          slot.job.resolve({ ok: false, path: slot.job.path, error: `${why} while processing the file` });
        }
        slot.job = undefined;
        this.replaceWorker(why, slot.deviceId);
      });
    });
  }

  /** An engine worker with its own sessions, or connected to the device's inference server by its own port. */
  private spawnEngineWorker(deviceId: number): Worker {
    const server = this.servers.get(deviceId);
    if (!this.shared) return spawnWorker({ ...this.engineOptions, deviceId });
    if (!server) throw new Error(`engine pool: no inference server for device ${deviceId}`);
    const { port1, port2 } = new MessageChannel();
    server.worker.postMessage({ type: 'connect', port: port1 } satisfies ConnectMessage, [port1]);
    return spawnWorker({ ...this.engineOptions, deviceId, inference: { port: port2, info: server.info } }, WORKER_PATH, [port2]);
  }

  /** Starts the device's inference server; if it dies later, the pool cannot run anything more on that device. */
  private startServer(deviceId: number): Promise<void> {
    const { pack, intraOpThreads, executionProvider, batchSize } = this.engineOptions;
    const worker = spawnWorker({ pack, intraOpThreads, executionProvider, batchSize, deviceId }, SERVER_PATH);
    return new Promise((resolve, reject) => {
      let lastError: string | undefined;
      let ready = false;
      worker.on('message', (msg: ServerMessage) => {
        if (msg.type === 'ready') {
          ready = true;
          this.servers.set(deviceId, { worker, info: msg.info });
          resolve();
        } else {
          lastError = msg.message;
          void worker.terminate();
        }
      });
      worker.on('error', (err) => {
        lastError = err.message;
      });
      worker.on('exit', (code) => {
        this.servers.delete(deviceId);
        if (!ready) reject(new Error(lastError ?? `inference server exited with code ${code} before it was ready`));
        else if (!this.closing) {
          this.brokenReason = `inference server of device ${deviceId} died (exit code ${code}${lastError ? `: ${lastError}` : ''})`;
          for (const job of this.queue.splice(0)) job.resolve({ ok: false, path: job.path, error: `engine: ${this.brokenReason}` });
        }
      });
    });
  }

  private replaceWorker(why: string, deviceId: number): void {
    this.startWorker(deviceId).catch((err: Error) => {
      if (this.slots.size > 0 || this.closing) return;
      // Nothing left to run on: fail what waits rather than hang.
      this.brokenReason = `${why}; restarting it failed: ${err.message}`;
      for (const job of this.queue.splice(0)) job.resolve({ ok: false, path: job.path, error: `engine: ${this.brokenReason}` });
    });
  }
}
