// Parses the process environment once into a typed, validated configuration object.
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type ExecutionProvider = 'cpu' | 'cuda';

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  /** Prefix for every BullMQ key and pub/sub channel this deployment uses. */
  queuePrefix: string;
  host: string;
  port: number;
  apiToken: string | undefined;
  bucketRoots: string[];
  outputRoots: string[];
  modelDir: string;
  executionProvider: ExecutionProvider;
  /** Inference worker threads per embed-worker process. */
  engineWorkers: number;
  /** Most items (detector tiles, face crops) per ONNX run. */
  engineBatchSize: number;
  /** CUDA devices the inference workers are spread over (worker i on cudaDevices[i % length]). */
  cudaDevices: number[];
  /** ONNX intra-op threads per inference worker thread. */
  intraOpThreads: number;
  maxImagePixels: number;
  scanConcurrency: number;
  embedConcurrency: number;
  clusterConcurrency: number;
  embedBatchSize: number;
  /** Parts a big discovery's linkage is split into, clustered by any cluster worker (1: all in the job's worker). */
  clusterParts: number;
  /** Faces from which a discovery's linkage is split into parts. */
  clusterDistributeAbove: number;
  /** Embed batches the scan adds to Redis per round trip (chunked fan-out). */
  scanFanOutChunk: number;
  callbackSecret: string | undefined;
  logLevel: string;
  /** BullMQ lock of an active job; a worker that dies loses it after this long and the job is retried. */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock expired (stalled-job recovery). */
  stalledIntervalMs: number;
  /** How long a service waits for its current jobs on SIGTERM before it lets them go. */
  shutdownTimeoutMs: number;
  /** Workers touch this file while Postgres and Redis answer (container health checks); unset: no file. */
  heartbeatFile: string | undefined;
  /** Hosts (names, IPs, CIDRs, `*`) a callbackUrl may reach even when they are loopback/private/link-local. */
  callbackAllowHosts: string[];
  /** How long a stage keeps retrying while Postgres or Redis is unreachable before the job fails. */
  infraPatienceMs: number;
  /** How often the reconciler looks for jobs whose queue work is gone or dead (0: off). */
  reconcileIntervalMs: number;
  /** How long an active job may go without an update before the reconciler inspects its queue work. */
  reconcileAfterMs: number;
  /** Nice value of the embed worker's inference threads (0..19): the API and Postgres keep their share of the CPU. */
  engineNice: number;
  /** Port of a worker's Prometheus endpoint (GET /metrics); 0: none. The API serves /metrics on its own port. */
  metricsPort: number;
  /** Address a worker's metrics endpoint listens on. */
  metricsHost: string;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`config: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** Colon-separated absolute paths, like PATH; empty entries are ignored. */
export function parseRoots(name: string, raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const roots = raw.split(':').filter((p) => p !== '');
  for (const root of roots) {
    if (!isAbsolute(root)) throw new ConfigError(name, `entries must be absolute paths, got "${root}"`);
  }
  return roots.map((r) => resolve(r));
}

/** Comma-separated CUDA device ids, e.g. "0,1". */
function deviceIds(env: Env): number[] {
  const raw = str(env, 'CUDA_DEVICES', '0');
  const ids = raw.split(',').map((x) => x.trim());
  if (ids.some((x) => !/^\d+$/.test(x))) throw new ConfigError('CUDA_DEVICES', `must be comma-separated device numbers, got "${raw}"`);
  return [...new Set(ids.map(Number))];
}

/**
 * Defaults per provider. CPU: one single-threaded worker per core with its own sessions; batch 1 (batched runs
 * measured no cheaper on CPU, see README). CUDA: still one worker per core, rounded up so every GPU gets as many:
 * the workers decode and do the pixel work on CPU threads and feed one inference-server thread per GPU (one set of
 * sessions per GPU, see engine/pool.ts); 32 items per run so a 12 MP photo's tiles and a group photo's faces, or
 * several photos' requests, go in one run.
 */
export const ENGINE_DEFAULTS = {
  cpu: { batchSize: 1 },
  cuda: { batchSize: 32 },
} as const;

export function loadConfig(env: Env = process.env): Config {
  const provider = str(env, 'EXECUTION_PROVIDER', 'cpu');
  if (provider !== 'cpu' && provider !== 'cuda') {
    throw new ConfigError('EXECUTION_PROVIDER', `must be "cpu" or "cuda", got "${provider}"`);
  }
  const cores = availableParallelism();
  const cudaDevices = deviceIds(env);
  const defaultWorkers = provider === 'cuda' ? Math.ceil(cores / cudaDevices.length) * cudaDevices.length : cores;
  return {
    databaseUrl: str(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/facesets'),
    redisUrl: str(env, 'REDIS_URL', 'redis://127.0.0.1:6379'),
    queuePrefix: str(env, 'QUEUE_PREFIX', 'facesets'),
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 8080, 0, 65535),
    apiToken: env.API_TOKEN || undefined,
    bucketRoots: parseRoots('BUCKET_ROOTS', env.BUCKET_ROOTS),
    outputRoots: parseRoots('OUTPUT_ROOTS', env.OUTPUT_ROOTS),
    modelDir: resolve(str(env, 'MODEL_DIR', join(REPO_ROOT, 'models'))),
    executionProvider: provider,
    engineWorkers: int(env, 'ENGINE_WORKERS', defaultWorkers, 1, 256),
    engineBatchSize: int(env, 'ENGINE_BATCH_SIZE', ENGINE_DEFAULTS[provider].batchSize, 1, 256),
    cudaDevices,
    intraOpThreads: int(env, 'ENGINE_INTRA_OP_THREADS', 1, 1, 256),
    maxImagePixels: int(env, 'MAX_IMAGE_PIXELS', 100_000_000, 1, 2_000_000_000),
    scanConcurrency: int(env, 'SCAN_CONCURRENCY', 1, 1, 64),
    embedConcurrency: int(env, 'EMBED_CONCURRENCY', 2, 1, 64),
    clusterConcurrency: int(env, 'CLUSTER_CONCURRENCY', 1, 1, 64),
    embedBatchSize: int(env, 'EMBED_BATCH_SIZE', 32, 1, 10_000),
    scanFanOutChunk: int(env, 'SCAN_FANOUT_CHUNK', 500, 1, 100_000),
    clusterParts: int(env, 'CLUSTER_PARTS', 8, 1, 1024),
    clusterDistributeAbove: int(env, 'CLUSTER_DISTRIBUTE_ABOVE', 100_000, 0, 1_000_000_000),
    callbackSecret: env.CALLBACK_SECRET || undefined,
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    lockDurationMs: int(env, 'LOCK_DURATION_MS', 60_000, 1_000, 3_600_000),
    stalledIntervalMs: int(env, 'STALLED_INTERVAL_MS', 30_000, 500, 3_600_000),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, 0, 3_600_000),
    heartbeatFile: env.HEARTBEAT_FILE || undefined,
    callbackAllowHosts: (env.CALLBACK_ALLOW_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== ''),
    infraPatienceMs: int(env, 'INFRA_PATIENCE_MS', 300_000, 1_000, 86_400_000),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 30_000, 0, 3_600_000),
    reconcileAfterMs: int(env, 'RECONCILE_AFTER_MS', 120_000, 100, 86_400_000),
    engineNice: int(env, 'ENGINE_NICE', 10, 0, 19),
    metricsPort: int(env, 'METRICS_PORT', 0, 0, 65535),
    metricsHost: str(env, 'METRICS_HOST', '127.0.0.1'),
  };
}
