// Composition root of the API process: config → app → listen → signals.
import { loadConfig } from '@facesets/shared/config';
import { createLifecycle } from '@facesets/shared/lifecycle';
import { createLogger } from '@facesets/shared/logger';
import { startTracing } from '@facesets/shared/telemetry/tracing';
import { buildApp } from './app';

const config = loadConfig();
const log = createLogger('api', config.logLevel);
const lifecycle = createLifecycle(log, { timeoutMs: 15_000 });
lifecycle.handleSignals();
// Before anything that queues: BullMQ's queues take their telemetry when they are created.
const tracing = startTracing('facesets-api');
if (tracing) lifecycle.add('tracing', () => tracing.shutdown());

try {
  const app = await buildApp({ config, logger: log, tracing: tracing !== null });
  lifecycle.add('http', () => app.close());
  await app.listen({ host: config.host, port: config.port });
  if (config.bucketRoots.length === 0) log.warn('BUCKET_ROOTS is empty: every POST /jobs will be refused');
} catch (err) {
  log.fatal({ err }, 'api could not start');
  await lifecycle.shutdown('start-up failed');
  process.exit(1);
}
