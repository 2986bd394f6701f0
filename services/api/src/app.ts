// Builds the Fastify app as a plugin tree; main.ts (or a test via inject) owns the lifecycle.
import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '@facesets/shared/config';
import authPlugin from './plugins/auth';
import errorsPlugin, { formatSchemaErrors } from './plugins/errors';
import metricsPlugin from './plugins/metrics';
import queueBoard from './plugins/queue-board';
import { dbPlugin, identitiesPlugin, queuesPlugin } from './plugins/resources';
import swaggerPlugin from './plugins/swagger';
import erasRoutes from './routes/eras.routes';
import facesRoutes from './routes/faces.routes';
import formatsRoutes from './routes/formats.routes';
import healthRoutes from './routes/health.routes';
import identitiesRoutes from './routes/identities.routes';
import jobEventsRoutes from './routes/job-events.routes';
import jobsRoutes from './routes/jobs.routes';
import metricsRoutes from './routes/metrics.routes';
import uiRoutes from './routes/ui.routes';
import { ErrorSchema } from './schemas/error.schema';
import { JobView } from './schemas/job.schemas';

export interface AppDeps {
  config: Config;
  /** Fastify logger option: a pino instance, true/false, or options. */
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
  /** A span per request (OpenTelemetry, @fastify/otel) when main.ts started tracing; off: no instrumentation at all. */
  tracing?: boolean;
}

/** Scraped, polled or static: no trace worth keeping. */
const UNTRACED = /^\/(metrics|healthz|readyz|docs|ui|admin\/queues)(\/|$)/;

const AJV_OPTIONS = { removeAdditional: false, useDefaults: true, coerceTypes: 'array', allErrors: false } as const;
const ajvCompilers = AjvCompiler();

/**
 * Query strings, params and headers arrive as text and are coerced (`?limit=5`); JSON bodies are not: `"2"` is
 * not a number and `123` is not a path, so a body is validated by an Ajv without coercion.
 */
const strictBodyValidator: ValidatorFactory = (externalSchemas, options) => {
  const coercing = ajvCompilers(externalSchemas, options);
  // Fastify passes the `ajv` server option (AJV mode, never JTD): override one key of it.
  const strict = ajvCompilers(externalSchemas, {
    ...options,
    customOptions: { ...(options?.customOptions as object | undefined), coerceTypes: false },
  } as Parameters<ValidatorFactory>[1]);
  return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
};

export async function buildApp({ config, logger, tracing }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(typeof logger === 'object' ? { loggerInstance: logger } : { logger: logger ?? false }),
    ajv: { customOptions: AJV_OPTIONS },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidator } },
    schemaErrorFormatter: formatSchemaErrors,
    // Request ids in logs; clients may pass their own.
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First, so it sees every route; the request's span is the active context in handlers (POST /jobs adds the scan in it).
  if (tracing) {
    const otel = new FastifyOtelInstrumentation({ instrumentHooks: false, ignorePaths: ({ url }) => UNTRACED.test(url) });
    await app.register(otel.plugin());
  }
  // A JSON body must be sent as JSON: text/plain is 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  app.decorate('config', config);
  app.addSchema(ErrorSchema);
  app.addSchema(JobView);
  await app.register(errorsPlugin);
  await app.register(swaggerPlugin, { withToken: Boolean(config.apiToken) });
  await app.register(dbPlugin, { config });
  await app.register(queuesPlugin, { config });
  await app.register(identitiesPlugin, { config });
  await app.register(metricsPlugin);
  await app.register(authPlugin, { token: config.apiToken });
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(jobsRoutes);
  await app.register(jobEventsRoutes);
  await app.register(identitiesRoutes);
  await app.register(erasRoutes);
  await app.register(facesRoutes);
  await app.register(formatsRoutes);
  await app.register(uiRoutes);
  await app.register(queueBoard);
  return app as unknown as FastifyInstance;
}
