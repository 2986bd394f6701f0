// Composition root of the cluster-worker process: config → database → worker → signals.
import { loadConfig } from '@facesets/shared/config';
import { createDb } from '@facesets/shared/db/pool';
import { createLifecycle, watchWorkerHealth } from '@facesets/shared/lifecycle';
import { createLogger } from '@facesets/shared/logger';
import { startTracing } from '@facesets/shared/telemetry/tracing';
import { ClusterMetrics, createRegistry } from '@facesets/shared/metrics/metrics';
import { startMetricsServer } from '@facesets/shared/metrics/metrics-server';
import { startClusterWorker } from './workers';

const config = loadConfig();
const log = createLogger('cluster-worker', config.logLevel);
const lifecycle = createLifecycle(log, { timeoutMs: config.shutdownTimeoutMs + 10_000 });
lifecycle.handleSignals();
// Before the workers and producers: BullMQ takes its telemetry when they are created. Closed last (added first).
const tracing = startTracing('facesets-cluster-worker');
if (tracing) lifecycle.add('tracing', () => tracing.shutdown());

try {
  const db = createDb(config.databaseUrl, { applicationName: 'facesets-cluster-worker' });
  lifecycle.add('database', () => db.end());
  const registry = createRegistry();
  const metrics = new ClusterMetrics(registry);
  if (config.metricsPort > 0) {
    const server = await startMetricsServer(registry, { host: config.metricsHost, port: config.metricsPort, log });
    lifecycle.add('metrics', () => server.close());
  }
  const worker = startClusterWorker({ config, db, log, metrics });
  lifecycle.add('worker', () => worker.close());
  if (config.heartbeatFile) watchWorkerHealth(lifecycle, config.heartbeatFile, { redisUrl: config.redisUrl, db, log });
} catch (err) {
  log.fatal({ err }, 'cluster worker could not start');
  await lifecycle.shutdown('start-up failed');
  process.exit(1);
}
