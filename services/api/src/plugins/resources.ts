// Shared resources of the API as decorations: the Postgres pool, repositories and the queue producers.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@facesets/shared/config';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import { createPgAdvisoryLock } from '@facesets/shared/db/locks.repository';
import { createDb, createLockDb, type Db } from '@facesets/shared/db/pool';
import { createRedisManifestPublisher, manifestChannel } from '@facesets/shared/events/manifest-events';
import { EraService } from '@facesets/shared/eras/era-service';
import { IdentityService } from '@facesets/shared/identities/identity-service';
import { decodeImage } from '@facesets/shared/image/decode';
import type { Logger } from '@facesets/shared/logger';
import { modelPackId } from '@facesets/shared/models/model-pack';
import {
  QUEUE,
  type QueueName,
  createQueue,
  producerConnection,
  type ClusterPayload,
  type EmbedPayload,
  type ScanPayload,
} from '@facesets/shared/queues';

export interface Queues {
  redis: Redis;
  scan: Queue<ScanPayload>;
  embed: Queue<EmbedPayload>;
  cluster: Queue<ClusterPayload>;
  /** Every queue of the deployment by name, the two only the cluster worker adds to included (metrics, dashboard). */
  all: Record<QueueName, Queue>;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Db;
    jobs: JobsRepository;
    queues: Queues;
    identities: IdentityService;
    eras: EraService;
  }
}

export const dbPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const db = createDb(opts.config.databaseUrl, { applicationName: 'facesets-api' });
    app.decorate('db', db);
    app.decorate('jobs', new JobsRepository(db));
    app.addHook('onClose', async () => db.end());
  },
  { name: 'db' },
);

export const queuesPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const redis = producerConnection(opts.config.redisUrl);
    // ioredis reports connection trouble as events; readiness and requests report it to clients instead.
    redis.on('error', (err) => app.log.debug({ err: err.message }, 'redis connection error'));
    const prefix = opts.config.queuePrefix;
    const scan = createQueue(QUEUE.scan, redis, prefix) as unknown as Queue<ScanPayload>;
    const embed = createQueue(QUEUE.embed, redis, prefix) as unknown as Queue<EmbedPayload>;
    const cluster = createQueue(QUEUE.cluster, redis, prefix) as unknown as Queue<ClusterPayload>;
    const all: Record<QueueName, Queue> = {
      scan: scan as unknown as Queue,
      embed: embed as unknown as Queue,
      cluster: cluster as unknown as Queue,
      'cluster-part': createQueue(QUEUE.clusterPart, redis, prefix) as unknown as Queue,
      callback: createQueue(QUEUE.callback, redis, prefix) as unknown as Queue,
    };
    const queues: Queues = { redis, scan, embed, cluster, all };
    for (const q of Object.values(all)) {
      q.on('error', (err) => app.log.debug({ err: err.message, queue: q.name }, 'queue error'));
    }
    // Let the queues finish their connection handshake before the app can be closed (a close racing it leaves a
    // rejected promise inside BullMQ); bounded, so the API still starts, and /readyz says so, when Redis is down.
    await Promise.race([
      Promise.all(Object.values(all).map((q) => q.waitUntilReady())).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
    app.decorate('queues', queues);
    app.addHook('onClose', async () => {
      await Promise.all(Object.values(all).map((q) => q.close()));
      await redis.quit().catch(() => redis.disconnect());
    });
  },
  { name: 'queues' },
);

/** The identity service: decisions write output roots under the same advisory lock jobs take, and publish alike. */
export const identitiesPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const publish = createRedisManifestPublisher(app.queues.redis, manifestChannel(opts.config.queuePrefix, opts.config.redisUrl));
    // Lock sessions come from a pool of their own: waiting for a root never takes a client the work needs.
    const lockDb = createLockDb(opts.config.databaseUrl, 'facesets-api-locks');
    app.addHook('onClose', async () => lockDb.end());
    const deps = {
      db: app.db,
      lock: createPgAdvisoryLock(lockDb),
      bucketRoots: opts.config.bucketRoots,
      outputRoots: opts.config.outputRoots,
      decodeImage: (path: string) => decodeImage(path, { maxPixels: opts.config.maxImagePixels }),
      publish,
      log: app.log as unknown as Logger,
      modelPack: modelPackId(),
      modelDir: opts.config.modelDir,
    };
    const identities = new IdentityService(deps);
    app.decorate('identities', identities);
    // Contact sheets decisions queued are written before the process lets go of anything.
    app.addHook('onClose', async () => identities.settled());
    // Era splits on request (issue 8): the same deps, the same lock.
    app.decorate('eras', new EraService({ ...deps, identities }));
  },
  { name: 'identities', dependencies: ['db', 'queues'] },
);
