// Finds Postgres and Redis for integration tests: DATABASE_URL/REDIS_URL, else testcontainers, else a loud failure.
import { execFileSync } from 'node:child_process';

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

/** One set of services per test process (vitest runs each file in its own worker, so this is per file). */
export function testServices(): Promise<ServiceUrls> {
  shared ??= (async () => {
    const db = process.env.DATABASE_URL;
    const redis = process.env.REDIS_URL;
    if (db && redis) return { adminDatabaseUrl: db, redisUrl: redis, stop: async () => undefined };
    if (dockerAvailable()) return fromContainers();
    throw new Error(
      'integration tests need Postgres and Redis: set DATABASE_URL and REDIS_URL ' +
        '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379), ' +
        'or run a Docker engine for testcontainers',
    );
  })();
  return shared;
}
