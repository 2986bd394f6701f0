// The API's Prometheus registry: HTTP latency by route pattern and decisions counted on each response; jobs,
// queues and identities read from Postgres and Redis when /metrics is scraped.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { CountsRepository } from '@facesets/shared/db/counts.repository';
import type { DecisionKind } from '@facesets/shared/identities/contracts';
import type { Logger } from '@facesets/shared/logger';
import { ApiMetrics, QUEUE_STATES, createRegistry } from '@facesets/shared/metrics/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry; api: ApiMetrics };
  }
}

/** The decision a successful call of an identities route records (route patterns of identities.routes.ts). */
const DECISION_ROUTES: Record<string, DecisionKind> = {
  'PATCH /identities/:id': 'label',
  'DELETE /identities/:id': 'delete',
  'POST /identities/:id/reject': 'reject',
  'POST /identities/:id/assign': 'assign',
  'POST /identities/:id/merge': 'merge',
  'POST /identities/:id/split': 'split',
  'POST /identities/:id/undo': 'undo',
};

/** The route pattern, never the URL (ids would make a series per job); requests no route matched share one. */
const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? 'unmatched';

export default fp(
  async (app: FastifyInstance) => {
    const registry = createRegistry();
    const counts = new CountsRepository(app.db);
    const api = new ApiMetrics(
      registry,
      {
        jobsByModeAndState: () => counts.jobsByModeAndState(),
        identitiesByState: () => counts.identitiesByState(),
        queueCounts: (name) => app.queues.all[name].getJobCounts(...QUEUE_STATES),
      },
      app.log as unknown as Logger,
    );
    app.decorate('metrics', { registry, api });
    app.addHook('onResponse', async (request, reply) => {
      const route = routeOf(request);
      api.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      const kind = reply.statusCode < 300 ? DECISION_ROUTES[`${request.method} ${route}`] : undefined;
      if (kind) api.decisions.inc({ kind });
    });
  },
  { name: 'metrics', dependencies: ['db', 'queues'] },
);
