// Scan+embed throughput through the whole service (API + cluster worker + N embed-worker processes, real HTTP).
// Usage: tsx scripts/bench-service.ts [--copies N] [--workers 1,2] [--engine-workers N] [--batch N]
// Needs Postgres and Redis (DATABASE_URL: a server where it may create a scratch database; REDIS_URL).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '../packages/shared/src/config';
import { migrate } from '../packages/shared/src/db/migrate';
import { deleteQueueKeys } from '../packages/shared/src/queues';

const { values } = parseArgs({
  options: {
    copies: { type: 'string', default: '6' },
    workers: { type: 'string', default: '1,2' },
    'engine-workers': { type: 'string', default: String(availableParallelism()) },
    batch: { type: 'string', default: '8' },
  },
});
const copies = Number(values.copies);
const workerCounts = String(values.workers).split(',').map(Number);
const engineWorkers = String(values['engine-workers']);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const fixtures = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Every fixture photo `copies` times, each copy distinct (trailing bytes), so nothing is cached or aliased. */
async function makeBucket(dir: string): Promise<number> {
  const photos = (await readdir(fixtures, { recursive: true })).filter((f) => /\.(jpe?g|png)$/i.test(f));
  for (let copy = 0; copy < copies; copy++) {
    await mkdir(join(dir, `copy-${copy}`), { recursive: true });
    for (const photo of photos) {
      const bytes = await readFile(join(fixtures, photo));
      await writeFile(join(dir, `copy-${copy}`, photo.replaceAll('/', '__')), Buffer.concat([bytes, Buffer.from(`${copy}${photo}`)]));
    }
  }
  return photos.length * copies;
}

function start(service: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join('services', service, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.resume();
  return child;
}

async function waitReady(base: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('API did not become ready');
}

async function waitForLog(child: ChildProcess, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d) => {
      seen += d;
      if (seen.includes(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function runOnce(embedWorkers: number, port: number): Promise<{ photos: number; seconds: number; embedded: number }> {
  const id = randomBytes(4).toString('hex');
  const dbName = `facesets_bench_${id}`;
  const root = await mkdtemp(join(tmpdir(), 'facesets-bench-'));
  await admin(`CREATE DATABASE ${dbName}`);
  const databaseUrl = withDatabase(adminUrl, dbName);
  await migrate(databaseUrl);
  const bucket = join(root, 'buckets', 'bench');
  const photos = await makeBucket(bucket);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `bench-${id}`,
    BUCKET_ROOTS: join(root, 'buckets'),
    OUTPUT_ROOTS: root,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ENGINE_WORKERS: engineWorkers,
    EMBED_BATCH_SIZE: String(values.batch),
  };
  const children: ChildProcess[] = [];
  try {
    children.push(start('api', env), start('cluster-worker', env));
    const workers = Array.from({ length: embedWorkers }, () => start('embed-worker', { ...env, LOG_LEVEL: 'info' }));
    children.push(...workers);
    const base = `http://127.0.0.1:${port}`;
    await Promise.all([waitReady(base), ...workers.map((w) => waitForLog(w, 'embed worker ready'))]);
    const t0 = performance.now();
    const res = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bucket, mode: 'scan' }),
    });
    const { id: jobId } = (await res.json()) as { id: string };
    for (;;) {
      const job = (await (await fetch(`${base}/jobs/${jobId}`)).json()) as { state: string; error: string | null; counters: { embedded: number } };
      if (job.state === 'completed') {
        return { photos, seconds: (performance.now() - t0) / 1000, embedded: job.counters.embedded };
      }
      if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${job.state}: ${job.error}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    const redis = new Redis(redisUrl);
    await deleteQueueKeys(redis, `bench-${id}`);
    await redis.quit();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await rm(root, { recursive: true, force: true });
  }
}

process.stdout.write(
  `scan+embed through the service: ${copies} distinct copies of the fixtures, ENGINE_WORKERS=${engineWorkers} per ` +
    `process, EMBED_BATCH_SIZE=${values.batch}, ${availableParallelism()} cores\n`,
);
for (const [i, n] of workerCounts.entries()) {
  const r = await runOnce(n, 18_180 + i);
  process.stdout.write(
    `${n} embed worker${n > 1 ? 's' : ' '}: ${r.photos} photos (${r.embedded} embedded) in ${r.seconds.toFixed(1)} s ` +
      `= ${(r.photos / r.seconds).toFixed(1)} photos/s (POST /jobs → completed)\n`,
  );
}
