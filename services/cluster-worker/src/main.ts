// Composition root of the cluster-worker process: config → database → worker → signals.
import { loadConfig } from '@facesets/shared/config';
import { createDb } from '@facesets/shared/db/pool';
import { createLifecycle, startHeartbeat } from '@facesets/shared/lifecycle';
import { workerConnection } from '@facesets/shared/queues';
import { createLogger } from '@facesets/shared/logger';
import { startClusterWorker } from './workers';

const config = loadConfig();
const log = createLogger('cluster-worker', config.logLevel);
const lifecycle = createLifecycle(log, { timeoutMs: config.shutdownTimeoutMs + 10_000 });
lifecycle.handleSignals();

/** Heartbeat for the container health check: Postgres and Redis both answer. */
function watchHealth(file: string, db: { query(sql: string): Promise<unknown> }): void {
  const redis = workerConnection(config.redisUrl);
  const stop = startHeartbeat(file, () => Promise.all([db.query('SELECT 1'), redis.ping()]), log);
  lifecycle.add('heartbeat', async () => {
    stop();
    await redis.quit().catch(() => redis.disconnect());
  });
}

try {
  const db = createDb(config.databaseUrl, { applicationName: 'facesets-cluster-worker' });
  lifecycle.add('database', () => db.end());
  const worker = startClusterWorker({ config, db, log });
  lifecycle.add('worker', () => worker.close());
  if (config.heartbeatFile) watchHealth(config.heartbeatFile, db);
} catch (err) {
  log.fatal({ err }, 'cluster worker could not start');
  await lifecycle.shutdown('start-up failed');
  process.exit(1);
}
