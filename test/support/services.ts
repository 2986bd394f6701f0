// Finds Postgres and Redis for integration tests: DATABASE_URL/REDIS_URL, else the local servers the service
// itself defaults to (started if installed but down, as `npm start` does), else testcontainers, else a loud failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { REPO_ROOT, loadConfig } from '@facesets/shared/config';
import { maintenanceUrl } from '@facesets/shared/db/migrate';

export interface ServiceUrls {
  /** A database URL on a server where the tests may CREATE and DROP databases. */
  adminDatabaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

let shared: Promise<ServiceUrls> | null = null;

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function fromContainers(): Promise<ServiceUrls> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [pg, redis] = await Promise.all([
    new PostgreSqlContainer('postgres:15').withUsername('postgres').withPassword('postgres').start(),
    new RedisContainer('redis:7').start(),
  ]);
  return {
    adminDatabaseUrl: pg.getConnectionUri(),
    redisUrl: redis.getConnectionUrl(),
    async stop() {
      await Promise.all([pg.stop(), redis.stop()]);
    },
  };
}

/** The service's default servers; tests connect to the `postgres` maintenance database to create their own. */
function localDefaults(): { adminDatabaseUrl: string; redisUrl: string } {
  const defaults = loadConfig({});
  return { adminDatabaseUrl: maintenanceUrl(defaults.databaseUrl), redisUrl: defaults.redisUrl };
}

/** Why Postgres or Redis does not answer at these URLs, or undefined when both do. */
async function whyNotAnswering(adminDatabaseUrl: string, redisUrl: string): Promise<string | undefined> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    problems.push(`Postgres at ${adminDatabaseUrl}: ${(err as Error).message || String(err)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined; // the socket's error says more than the rejected connect ("Connection is closed")
  redis.on('error', (err: Error) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(`Redis at ${redisUrl}: ${(cause ?? (err as Error)).message}`);
  } finally {
    redis.disconnect();
  }
  return problems.length ? problems.join('; ') : undefined;
}

/** `npm start`'s own step: starts the machine's PostgreSQL / Redis when they are installed but down. */
function ensureLocalServices(adminDatabaseUrl: string, redisUrl: string): string {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts/ensure-services.sh')], {
    env: { ...process.env, DATABASE_URL: adminDatabaseUrl, REDIS_URL: redisUrl },
    encoding: 'utf8',
    timeout: 90_000,
  });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (said) process.stderr.write(`${said}\n`);
  return said;
}

/** One set of services per test process (vitest runs each file in its own worker, so this is per file). */
export function testServices(): Promise<ServiceUrls> {
  shared ??= (async () => {
    const defaults = localDefaults();
    const explicit = process.env.DATABASE_URL !== undefined || process.env.REDIS_URL !== undefined;
    const adminDatabaseUrl = process.env.DATABASE_URL || defaults.adminDatabaseUrl;
    const redisUrl = process.env.REDIS_URL || defaults.redisUrl;
    const found = { adminDatabaseUrl, redisUrl, stop: async () => undefined };
    if ((await whyNotAnswering(adminDatabaseUrl, redisUrl)) === undefined) return found;
    const said = ensureLocalServices(adminDatabaseUrl, redisUrl);
    const why = await whyNotAnswering(adminDatabaseUrl, redisUrl);
    if (why === undefined) return found;
    // Containers stand in only for the defaults: URLs a person set must answer, or the tests fail.
    if (!explicit && dockerAvailable()) return fromContainers();
    throw new Error(
      `integration tests need Postgres and Redis, and nothing answers: ${why}` +
        (said ? ` (scripts/ensure-services.sh: ${said.replaceAll('\n', ' ')})` : '') +
        '. Start them (the defaults are the local servers the service uses), point DATABASE_URL (a server where the ' +
        'tests may create databases) and REDIS_URL at others, or run a Docker engine for testcontainers',
    );
  })();
  return shared;
}
