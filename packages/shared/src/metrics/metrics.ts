// Prometheus metrics of every facesets process: one registry per process and every metric, named once (facesets_*).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DECISION_KINDS } from '../identities/contracts';
import { JOB_MODES, JOB_STATES } from '../jobs/state';
import type { Logger } from '../logger';
import { QUEUE, type QueueName } from '../queues';
import type { FileResult } from '../engine/types';

/**
 * prom-client's gauges named like counters (promtool rejects them); each is the sum of a by-type gauge of the same
 * name without `_total` (nodejs_active_handles{type}, …), so nothing is lost.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A registry with the default process and Node.js metrics (process_*, nodejs_*: standard names, no prefix). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}

/** Queue states facesets_queue_jobs reports for every queue (BullMQ's getJobCounts names). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'waiting-children'] as const;
export const QUEUE_NAMES = Object.values(QUEUE);

/** Each scrape's reads of Postgres and Redis give up after this long; the series of a source that did are left out. */
const SOURCE_TIMEOUT_MS = 2_000;

export interface ApiMetricSources {
  jobsByModeAndState(): Promise<{ mode: string; state: string; count: number }[]>;
  identitiesByState(): Promise<{ state: string; count: number }[]>;
  /** BullMQ's job counts per state of one queue. */
  queueCounts(queue: QueueName): Promise<Record<string, number>>;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${SOURCE_TIMEOUT_MS} ms`)), SOURCE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What one scrape read of Postgres and Redis; a source that failed leaves its part undefined. */
interface Snapshot {
  jobs?: { mode: string; state: string; count: number }[];
  identities?: { state: string; count: number }[];
  queues?: (readonly [QueueName, Record<string, number>])[];
}

/** The API's metrics: HTTP latency and decisions counted in-process; jobs, queues and identities read at each scrape. */
export class ApiMetrics {
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly decisions: Counter<'kind'>;
  private current: Promise<Snapshot> | null = null;

  constructor(registry: Registry, private readonly sources: ApiMetricSources, private readonly log: Logger) {
    this.httpDuration = new Histogram({
      name: 'facesets_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers: [registry],
    });
    this.decisions = new Counter({
      name: 'facesets_decisions_total',
      help: 'Decisions on identities made through the API (reject, assign, merge, split, label, delete, undo)',
      labelNames: ['kind'],
      registers: [registry],
    });
    for (const kind of DECISION_KINDS) this.decisions.inc({ kind }, 0);
    const snapshot = () => this.snapshot();
    new Gauge({
      name: 'facesets_jobs',
      help: 'Jobs in Postgres by mode and state',
      labelNames: ['mode', 'state'],
      registers: [registry],
      async collect() {
        const { jobs } = await snapshot();
        this.reset();
        if (!jobs) return;
        // Every combination is a series, so `facesets_jobs{state="failed"}` is 0 rather than absent.
        for (const mode of JOB_MODES) for (const state of JOB_STATES) this.set({ mode, state }, 0);
        for (const r of jobs) this.set({ mode: r.mode, state: r.state }, r.count);
      },
    });
    new Gauge({
      name: 'facesets_identities',
      help: 'Identities of every output root by state',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const { identities } = await snapshot();
        this.reset();
        if (!identities) return;
        for (const state of ['active', 'merged', 'deleted']) this.set({ state }, 0);
        for (const r of identities) this.set({ state: r.state }, r.count);
      },
    });
    new Gauge({
      name: 'facesets_queue_jobs',
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        const { queues } = await snapshot();
        this.reset();
        for (const [queue, counts] of queues ?? []) for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'facesets_metrics_source_up',
      help: '1 when this scrape could read the source (postgres, redis), else 0 and its series are missing',
      labelNames: ['source'],
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.set({ source: 'postgres' }, s.jobs && s.identities ? 1 : 0);
        this.set({ source: 'redis' }, s.queues ? 1 : 0);
      },
    });
  }

  /** One read of every source per scrape: the registry collects its gauges at once, and they share it. */
  private snapshot(): Promise<Snapshot> {
    this.current ??= this.read().finally(() => setImmediate(() => (this.current = null)));
    return this.current;
  }

  private async read(): Promise<Snapshot> {
    const attempt = async <T>(source: 'postgres' | 'redis', p: Promise<T>): Promise<T | undefined> => {
      try {
        return await withTimeout(p, source);
      } catch (err) {
        this.log.warn({ source, err: err instanceof Error ? err.message : String(err) }, 'metrics: a source did not answer the scrape');
        return undefined;
      }
    };
    const [jobs, identities, queues] = await Promise.all([
      attempt('postgres', this.sources.jobsByModeAndState()),
      attempt('postgres', this.sources.identitiesByState()),
      attempt('redis', Promise.all(QUEUE_NAMES.map(async (q) => [q, await this.sources.queueCounts(q)] as const))),
    ]);
    return { ...(jobs ? { jobs } : {}), ...(identities ? { identities } : {}), ...(queues ? { queues } : {}) };
  }
}

/** Per-file stage times from the engine's worker threads: the model's run plus the pixel work around it. */
const INFERENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const DECODE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type FileOutcome = 'face' | 'noface' | 'error' | 'cached';

/** What the embed worker's metrics read of its engine at each scrape (EnginePool.load). */
export interface EngineLoad {
  workers: number;
  /** Milliseconds the workers have spent on files since the engine started, files in flight included. */
  busyMs: number;
}

/** The embed worker's metrics: files and faces, per-model inference time, decode time, engine load. */
export class EmbedMetrics {
  readonly files: Counter<'result'>;
  readonly faces: Counter;
  readonly inference: Histogram<'model'>;
  readonly decode: Histogram;

  constructor(registry: Registry, engine: { load(): EngineLoad }) {
    this.files = new Counter({
      name: 'facesets_files_total',
      help: 'Files the embed stage recorded by result (face, noface, error) and sources a scan found cached',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['face', 'noface', 'error', 'cached'] as const) this.files.inc({ result }, 0);
    this.faces = new Counter({ name: 'facesets_faces_total', help: 'Faces the embed stage recorded', registers: [registry] });
    this.inference = new Histogram({
      name: 'facesets_inference_seconds',
      help: 'Per file and model (detect, landmark, embed): time in that model stage, timed in the inference thread (decoding excluded)',
      labelNames: ['model'],
      buckets: INFERENCE_BUCKETS,
      registers: [registry],
    });
    this.decode = new Histogram({
      name: 'facesets_decode_seconds',
      help: 'Per file: reading, hashing and decoding its pixels, timed in the inference thread',
      buckets: DECODE_BUCKETS,
      registers: [registry],
    });
    new Counter({
      name: 'facesets_engine_busy_seconds_total',
      help: 'Time the inference worker threads spent on files (rate / facesets_engine_workers = busy ratio)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(engine.load().busyMs / 1000);
      },
    });
    new Gauge({
      name: 'facesets_engine_workers',
      help: 'Inference worker threads of this process',
      registers: [registry],
      collect() {
        this.set(engine.load().workers);
      },
    });
    // Busy share since the previous scrape: what a dashboard wants without a rate(); the counter above is exact.
    let last = { at: performance.now(), busyMs: engine.load().busyMs };
    new Gauge({
      name: 'facesets_engine_busy_ratio',
      help: 'Share of the inference threads\' time spent on files since the previous scrape (0..1)',
      registers: [registry],
      collect() {
        const now = { at: performance.now(), busyMs: engine.load().busyMs };
        const capacity = (now.at - last.at) * Math.max(1, engine.load().workers);
        this.set(capacity > 0 ? Math.min(1, (now.busyMs - last.busyMs) / capacity) : 0);
        last = now;
      },
    });
  }

  /** One file the embed stage recorded: its result, its faces, and the stage times the engine measured. */
  recordFile(result: Exclude<FileOutcome, 'cached'>, faces: number, file: FileResult): void {
    this.files.inc({ result });
    if (faces > 0) this.faces.inc(faces);
    if (!file.ok) return;
    this.decode.observe(file.timings.decode / 1000);
    for (const model of ['detect', 'landmark', 'embed'] as const) this.inference.observe({ model }, file.timings[model] / 1000);
  }

  /** Sources a scan found embedded already by this model pack (not embedded again). */
  recordCached(count: number): void {
    if (count > 0) this.files.inc({ result: 'cached' }, count);
  }
}

export type ClusterStage = 'coverage' | 'clustering' | 'export' | 'eras' | 'manifest' | 'formats' | 'report' | 'import' | 'events';
export type CallbackResult = 'delivered' | 'retrying' | 'failed';
export type ReconcilerAction = 'redrive' | 'fail' | 'callback';

const STAGE_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];
const FACES_BUCKETS = [0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/** The cluster worker's metrics: step durations, callback deliveries, reconciler actions, discovery sizes. */
export class ClusterMetrics {
  readonly stageDuration: Histogram<'stage'>;
  readonly callbacks: Counter<'result'>;
  readonly reconcilerActions: Counter<'action'>;
  readonly discoveryFaces: Histogram;

  constructor(registry: Registry) {
    this.stageDuration = new Histogram({
      name: 'facesets_stage_duration_seconds',
      help: 'Steps of the cluster stage (coverage, clustering, export, eras, manifest, formats, report, import, events)',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers: [registry],
    });
    this.callbacks = new Counter({
      name: 'facesets_callbacks_total',
      help: 'Callback deliveries: delivered, retrying (an attempt failed, another follows), failed (no attempt left or refused)',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['delivered', 'retrying', 'failed'] as const) this.callbacks.inc({ result }, 0);
    this.reconcilerActions = new Counter({
      name: 'facesets_reconciler_actions_total',
      help: 'What the reconciler did: redrive (re-queued lost work), fail (failed a job), callback (queued a lost callback)',
      labelNames: ['action'],
      registers: [registry],
    });
    for (const action of ['redrive', 'fail', 'callback'] as const) this.reconcilerActions.inc({ action }, 0);
    this.discoveryFaces = new Histogram({
      name: 'facesets_discovery_faces',
      help: 'Faces a discover or extend job loaded for coverage and clustering',
      buckets: FACES_BUCKETS,
      registers: [registry],
    });
  }

  /** Runs one step and observes its duration, whether it succeeds or throws. */
  async timeStage<T>(stage: ClusterStage, fn: () => Promise<T>): Promise<T> {
    const end = this.stageDuration.startTimer({ stage });
    try {
      return await fn();
    } finally {
      end();
    }
  }
}
