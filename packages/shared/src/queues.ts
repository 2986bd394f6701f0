// Queue contracts: names, payloads, the queue → payload map, deterministic job ids and connection helpers.
import { FlowProducer, Queue, type ConnectionOptions, type DefaultJobOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { bullTelemetry } from './telemetry/bullmq-telemetry';

export const QUEUE = {
  scan: 'scan',
  embed: 'embed',
  cluster: 'cluster',
  clusterPart: 'cluster-part',
  callback: 'callback',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/** Walk the bucket, hash, record paths, consult the cache, fan out embed batches. */
export interface ScanPayload {
  jobId: string;
}

export interface EmbedFile {
  sha256: string;
  path: string;
  /** A cached source whose faces carry an older blur or pose definition: re-measure those (boxes kept, no embedding). */
  reblur?: true;
}

/** One batch of distinct sources to embed (the representative path of each). */
export interface EmbedPayload {
  jobId: string;
  batch: number;
  files: EmbedFile[];
}

/** Runs once every embed batch of the job has finished: finalise (scan), coverage/discovery/export. */
export interface ClusterPayload {
  jobId: string;
}

/**
 * One manifest-update notification to a job's callbackUrl. The body is fixed at enqueue time so every retry
 * sends (and signs) the same bytes.
 */
export interface CallbackPayload {
  jobId: string;
  url: string;
  body: string;
}

/** One part (whole connected components) of a discover job's candidate graph, stored in cluster_parts. */
export interface ClusterPartPayload {
  jobId: string;
  part: number;
}

export interface QueuePayloads {
  scan: ScanPayload;
  embed: EmbedPayload;
  cluster: ClusterPayload;
  'cluster-part': ClusterPartPayload;
  callback: CallbackPayload;
}

/** Deterministic BullMQ job ids: re-adding the same work is a no-op (no ':', never digits-only). */
export const bullJobId = {
  scan: (jobId: string) => `scan-${jobId}`,
  embed: (jobId: string, batch: number | 'barrier') => `embed-${jobId}-${batch}`,
  cluster: (jobId: string) => `cluster-${jobId}`,
  /** With the attempt of the cluster step that asked: a retried step never reuses a stale answer. */
  clusterPart: (jobId: string, attempt: string, part: number) => `cluster-part-${jobId}-${attempt}-${part}`,
  /** One manifest-update callback per job (a job changes the manifest once). */
  callback: (jobId: string) => `callback-${jobId}`,
};

/** Retry policy, in one place. Completed jobs are removed: public state lives in Postgres. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/** Callback deliveries retry in their own queue, longer than work does: a slow receiver never holds a job up. */
export const CALLBACK_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5_000 },
  // Kept a day: a second enqueue of the same job's callback (the reconciler after a crash) is then a no-op.
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Options of an embed child: a batch that fails for good fails the parent, so the job cannot hang. */
export const EMBED_CHILD_OPTIONS: JobsOptions = { ...DEFAULT_JOB_OPTIONS, failParentOnFailure: true };

function redisOptions(redisUrl: string, extra: RedisOptions): Redis {
  return new Redis(redisUrl, { ...extra, lazyConnect: false });
}

/** Connection for BullMQ workers: blocking commands must wait for Redis forever, never give up. */
export function workerConnection(redisUrl: string): Redis {
  return redisOptions(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** Connection for producers (the API): fail fast so a request errors instead of hanging while Redis is down. */
export function producerConnection(redisUrl: string): Redis {
  return redisOptions(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 });
}

export function createQueue<N extends QueueName>(
  name: N,
  connection: ConnectionOptions,
  prefix: string,
): Queue<QueuePayloads[N], unknown, N> {
  return new Queue<QueuePayloads[N], unknown, N>(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS, ...bullTelemetry() });
}

export function createFlowProducer(connection: ConnectionOptions, prefix: string): FlowProducer {
  return new FlowProducer({ connection, prefix, ...bullTelemetry() });
}

/** Deletes every key of a queue prefix (tests and tear-down only). */
export async function deleteQueueKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
