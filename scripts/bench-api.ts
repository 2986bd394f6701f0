// GET /jobs/:id latency under a fixed request rate, idle and while a job embeds, for each ENGINE_NICE value given.
// Usage: tsx scripts/bench-api.ts [--rate 200] [--seconds 15] [--nice 0,10] [--copies 4] [--port 8107]
// Loopback only; bounded (rate × seconds requests per phase). Needs Postgres and Redis (a scratch database is made).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '../packages/shared/src/config';
import { migrate } from '../packages/shared/src/db/migrate';
import { deleteQueueKeys } from '../packages/shared/src/queues';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '15' },
    nice: { type: 'string', default: '0,10' },
    copies: { type: 'string', default: '4' },
    port: { type: 'string', default: process.env.PORT ?? '8107' },
  },
});
const rate = Math.min(1000, Number(values.rate));
const seconds = Math.min(120, Number(values.seconds));
const niceValues = String(values.nice).split(',').map(Number);
const copies = Number(values.copies);
const port = Number(values.port);
const base = `http://127.0.0.1:${port}`;
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const fixtures = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function makeBucket(dir: string, tag: string): Promise<void> {
  const photos = (await readdir(fixtures, { recursive: true })).filter((f) => /\.(jpe?g|png)$/i.test(f));
  for (let copy = 0; copy < copies; copy++) {
    await mkdir(join(dir, `copy-${copy}`), { recursive: true });
    for (const photo of photos) {
      const bytes = await readFile(join(fixtures, photo));
      await writeFile(join(dir, `copy-${copy}`, photo.replaceAll('/', '__')), Buffer.concat([bytes, Buffer.from(`${tag}${copy}${photo}`)]));
    }
  }
}

function start(service: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join('services', service, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveReq, reject) => {
    const req = request(`${base}${path}`, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveReq({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function send(method: string, path: string, payload?: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(payload ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) } : {}),
  });
  return { status: res.status, body: await res.text() };
}

/** Open loop: requests leave on a fixed schedule whatever the answers; latency counts from the scheduled time. */
async function load(path: string): Promise<{ p50: number; p95: number; p99: number; max: number; errors: number; n: number }> {
  const total = rate * seconds;
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      get(path).then(
        (res) => {
          if (res.status !== 200) errors += 1;
          latencies.push(performance.now() - due);
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: latencies[latencies.length - 1] ?? NaN, errors, n: total };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const fmt = (r: Awaited<ReturnType<typeof load>>) =>
  `p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms  errors ${r.errors}/${r.n}`;

const id = randomBytes(4).toString('hex');
const dbName = `facesets_bench_api_${id}`;
const databaseUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const root = await mkdtemp(join(tmpdir(), 'facesets-bench-api-'));
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const env = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: `bench-api-${id}`,
  BUCKET_ROOTS: root,
  OUTPUT_ROOTS: root,
  PORT: String(port),
  LOG_LEVEL: 'warn',
};
const children: ChildProcess[] = [];
try {
  await admin(`CREATE DATABASE ${dbName}`);
  await migrate(databaseUrl);
  const api = start('api', env);
  children.push(api);
  await waitFor('the API', async () => ((await get('/readyz')).status === 200 ? true : undefined));
  const seed = await send('POST', '/jobs', { bucket: await mkdtemp(join(root, 'seed-')), mode: 'scan' });
  const seedId = (JSON.parse(seed.body) as { id: string }).id;
  console.log(`GET /jobs/:id at ${rate} req/s for ${seconds} s per phase (open loop, loopback, keep-alive)`);
  console.log(`idle (no job running)            ${fmt(await load(`/jobs/${seedId}`))}`);
  for (const nice of niceValues) {
    const bucket = join(root, `bucket-nice-${nice}`);
    await makeBucket(bucket, `nice${nice}`);
    const embed = start('embed-worker', { ...env, ENGINE_NICE: String(nice) });
    const cluster = start('cluster-worker', env);
    children.push(embed, cluster);
    const created = await send('POST', '/jobs', { bucket, mode: 'scan' });
    const jobId = (JSON.parse(created.body) as { id: string }).id;
    await waitFor('embedding to start', async () => {
      const job = JSON.parse((await get(`/jobs/${jobId}`)).body) as { counters: { embedded: number } };
      return job.counters.embedded >= 2 ? true : undefined;
    }, 300_000);
    const result = await load(`/jobs/${jobId}`);
    const after = JSON.parse((await get(`/jobs/${jobId}`)).body) as { state: string; counters: { embedded: number } };
    console.log(`job embedding, ENGINE_NICE=${String(nice).padEnd(3)}      ${fmt(result)}  (job still ${after.state})`);
    await send('DELETE', `/jobs/${jobId}`);
    await Promise.all([stop(embed), stop(cluster)]);
  }
  console.log('(the machine is shared: compare phases of this run with each other, not with other runs)');
} finally {
  for (const c of children) await stop(c);
  agent.destroy();
  await deleteQueueKeys(redis, env.QUEUE_PREFIX).catch(() => undefined);
  await redis.quit();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
