// /healthz (the process answers) and /readyz (Postgres and Redis answer).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { unavailable } from '../http-errors';
import { errorRef } from '../schemas/error.schema';

const Status = Type.Object({ status: Type.String() });

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { tags: ['health'], operationId: 'health', summary: 'The process is up', response: { 200: Status } },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        operationId: 'ready',
        summary: 'Postgres and Redis answer',
        response: { 200: Status, 503: errorRef },
      },
    },
    async () => {
      const [pg, redis] = await Promise.allSettled([
        withTimeout(app.db.query('SELECT 1'), 2_000),
        withTimeout(app.queues.redis.ping(), 2_000),
      ]);
      const down = [pg.status === 'rejected' ? 'postgres' : null, redis.status === 'rejected' ? 'redis' : null].filter(
        Boolean,
      );
      if (down.length) throw unavailable(`not ready: ${down.join(' and ')} unavailable`);
      return { status: 'ready' };
    },
  );
};

export default healthRoutes;
