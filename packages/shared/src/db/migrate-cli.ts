// `npm run migrate`: creates the database if needed and applies pending migrations.
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { ensureDatabase, migrate } from './migrate';

const config = loadConfig();
const log = createLogger('migrate', config.logLevel);
try {
  if (await ensureDatabase(config.databaseUrl)) log.info('created the database');
  const { applied, skipped } = await migrate(config.databaseUrl);
  log.info({ applied, alreadyApplied: skipped.length }, applied.length ? 'migrations applied' : 'database is up to date');
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
}
