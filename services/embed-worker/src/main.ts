// Composition root of the embed-worker process: config → engine → database → workers → signals.
import { loadConfig } from '@facesets/shared/config';
import { createDb } from '@facesets/shared/db/pool';
import { EnginePool, enginePoolOptions } from '@facesets/shared/engine/pool';
import { lowerProcessPriority } from '@facesets/shared/engine/priority';
import { createLifecycle, watchWorkerHealth } from '@facesets/shared/lifecycle';
import { createLogger } from '@facesets/shared/logger';
import { startTracing } from '@facesets/shared/telemetry/tracing';
import { EmbedMetrics, createRegistry } from '@facesets/shared/metrics/metrics';
import { startMetricsServer } from '@facesets/shared/metrics/metrics-server';
import { startEmbedWorkers } from './workers';

const config = loadConfig();
const log = createLogger('embed-worker', config.logLevel);
const lifecycle = createLifecycle(log, { timeoutMs: config.shutdownTimeoutMs + 10_000 });
lifecycle.handleSignals();
// Before the workers and producers: BullMQ takes its telemetry when they are created. Closed last (added first).
const tracing = startTracing('facesets-embed-worker');
if (tracing) lifecycle.add('tracing', () => tracing.shutdown());

try {
  // Before the inference threads start (they inherit it): the API and Postgres on the same box keep their share.
  if (config.engineNice > 0) log.info({ nice: config.engineNice, threads: lowerProcessPriority(config.engineNice) }, 'embed worker runs at lower CPU priority');
  const engine = await EnginePool.create({ ...enginePoolOptions(config), verifyModels: true });
  lifecycle.add('engine', () => engine.close());
  const { note, ...engineInfo } = engine.info;
  log.info({ engine: engineInfo }, `face engine on ${engineInfo.executionProvider} (onnxruntime ${engineInfo.ortVersion}, batch ${engineInfo.batchSize})`);
  if (note) log.warn({ engine: engineInfo }, note);
  const db = createDb(config.databaseUrl, { applicationName: 'facesets-embed-worker' });
  lifecycle.add('database', () => db.end());
  const registry = createRegistry();
  const metrics = new EmbedMetrics(registry, engine);
  if (config.metricsPort > 0) {
    const server = await startMetricsServer(registry, { host: config.metricsHost, port: config.metricsPort, log });
    lifecycle.add('metrics', () => server.close());
  }
  const workers = startEmbedWorkers({ config, db, engine, log, metrics });
  lifecycle.add('workers', () => workers.close());
  if (config.heartbeatFile) watchWorkerHealth(lifecycle, config.heartbeatFile, { redisUrl: config.redisUrl, db, log, status: () => ({ engine: engine.info }) });
} catch (err) {
  log.fatal({ err }, 'embed worker could not start');
  await lifecycle.shutdown('start-up failed');
  process.exit(1);
}
