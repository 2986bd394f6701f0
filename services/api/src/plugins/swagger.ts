// OpenAPI document (@fastify/swagger) and its UI at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export default fp(
  async (app: FastifyInstance, opts: { withToken: boolean }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'facesets',
          description: 'Turns folders of photos into per-person face sets: submit a bucket, poll the job.',
          version: '0.1.0',
        },
        tags: [
          { name: 'jobs', description: 'Submit, follow, list and cancel jobs' },
          { name: 'identities', description: 'Identities (face sets) of output roots and the decisions people make on them' },
          { name: 'faces', description: 'Face thumbnails' },
          { name: 'health', description: 'Liveness and readiness' },
          { name: 'operations', description: 'Prometheus metrics and the queue dashboard' },
        ],
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        ...(opts.withToken ? { security: [{ bearer: [] }] } : {}),
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'swagger' },
);
