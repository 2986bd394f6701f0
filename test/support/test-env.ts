// One isolated world per test file: its own database, queue prefix and temp directories, all removed at the end.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { REPO_ROOT, loadConfig, type Config } from '@facesets/shared/config';
import { migrate } from '@facesets/shared/db/migrate';
import { createDb, type Db } from '@facesets/shared/db/pool';
import { deleteQueueKeys } from '@facesets/shared/queues';
import { testServices } from './services';

import { FIXTURES_DIR } from './fixtures';

export { FIXTURES_DIR };

export interface TestEnv {
  config: Config;
  /** Environment for child processes (workers) that must join this test's world. */
  env: Record<string, string>;
  db: Db;
  redis: Redis;
  root: string;
  bucketsDir: string;
  outputDir: string;
  /** Copies the fixtures (or a sub-folder of them) into a new bucket; returns its path. */
  fixtureBucket(name: string, subdir?: string): Promise<string>;
  /** A bucket of `copies` × every fixture photo, each copy made distinct by trailing bytes. */
  largeBucket(name: string, copies: number): Promise<string>;
  close(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const services = await testServices();
  const id = randomBytes(4).toString('hex');
  const dbName = `facesets_test_${id}`;
  const admin = new pg.Client({ connectionString: services.adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const databaseUrl = withDatabase(services.adminDatabaseUrl, dbName);
  await migrate(databaseUrl);

  const root = await mkdtemp(join(tmpdir(), 'facesets-test-'));
  const bucketsDir = join(root, 'buckets');
  const outputDir = join(root, 'output');
  await mkdir(bucketsDir, { recursive: true });
  await mkdir(outputDir, { recursive: true });
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: `fst-${id}`,
    BUCKET_ROOTS: bucketsDir,
    OUTPUT_ROOTS: outputDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ENGINE_WORKERS: '2',
    // Tests run their callback receivers on loopback; test/faults/ssrf.test.ts takes this away again.
    CALLBACK_ALLOW_HOSTS: '127.0.0.1',
    ...overrides,
  };
  const config = loadConfig({ ...process.env, ...env });
  const db = createDb(databaseUrl, { max: 4 });
  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: null });

  return {
    config,
    env,
    db,
    redis,
    root,
    bucketsDir,
    outputDir,
    async fixtureBucket(name, subdir) {
      const dest = join(bucketsDir, name);
      await cp(subdir ? join(FIXTURES_DIR, subdir) : FIXTURES_DIR, dest, { recursive: true });
      return dest;
    },
    async largeBucket(name, copies) {
      const dest = join(bucketsDir, name);
      const photos = (await readdir(FIXTURES_DIR, { recursive: true })).filter((f) => /\.(jpe?g|png)$/i.test(f));
      for (let copy = 0; copy < copies; copy++) {
        const dir = join(dest, `copy-${copy}`);
        await mkdir(dir, { recursive: true });
        for (const photo of photos) {
          const bytes = await readFile(join(FIXTURES_DIR, photo));
          // Decoders ignore bytes after the image's end; the hash does not.
          const tail = Buffer.from(`${name}:${copy}:${photo}`);
          await writeFile(join(dir, photo.replaceAll('/', '__')), Buffer.concat([bytes, tail]));
        }
      }
      return dest;
    },
    async close() {
      await db.end();
      await deleteQueueKeys(redis, config.queuePrefix);
      await redis.quit();
      const cleanup = new pg.Client({ connectionString: services.adminDatabaseUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await cleanup.end();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Adds the awkward things a real bucket holds: broken images, non-images, odd folder names, an escaping symlink. */
export async function addAwkwardFiles(bucket: string, outside: string): Promise<void> {
  const odd = join(bucket, '[Originaldateien]', 'Ünïcødé & spaces');
  await mkdir(odd, { recursive: true });
  await writeFile(join(odd, 'notes.txt'), 'not an image\n');
  await writeFile(join(bucket, 'misc', 'broken.jpg'), randomBytes(2048));
  await writeFile(join(bucket, 'misc', 'truncated.PNG'), Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'secret.jpg'), randomBytes(64));
  await symlink(join(outside, 'secret.jpg'), join(bucket, 'escape.jpg'));
}
