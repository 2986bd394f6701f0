// Scan+embed throughput through the whole service (API + cluster worker + N embed-worker processes, real HTTP).
// Usage: tsx scripts/bench-service.ts [--dir DIR] [--copies N] [--workers 1,2] [--engine-workers N] [--batch N] [--port N]
//                                     [--mode scan|discover] [--chart FILE.png]
// --dir: photos to scan instead of the fixtures (its images, recursively; --copies defaults to 1 then).
// --chart: every process serves /metrics, sampled 4× a second during the job; the dashboard's series go to FILE.png.
// Needs Postgres and Redis (DATABASE_URL: a server where it may create a scratch database; REDIS_URL).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '../packages/shared/src/config';
import { migrate } from '../packages/shared/src/db/migrate';
import { deleteQueueKeys } from '../packages/shared/src/queues';
import { parseExposition, pick, quantile, renderPng, type Panel, type Scrape } from './metrics-chart';
import { IMAGE_EXTENSIONS } from '../packages/shared/src/scan/walk';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    copies: { type: 'string' },
    workers: { type: 'string', default: '1,2' },
    'engine-workers': { type: 'string', default: String(availableParallelism()) },
    batch: { type: 'string', default: '8' },
    port: { type: 'string', default: '18180' },
    mode: { type: 'string', default: 'scan' },
    chart: { type: 'string' },
  },
});
const copies = Number(values.copies ?? (values.dir ? 1 : 6));
const workerCounts = String(values.workers).split(',').map(Number);
const engineWorkers = String(values['engine-workers']);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const source = resolve(values.dir ?? process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));

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

/** Every source photo `copies` times, each copy distinct (trailing bytes), so nothing is cached or aliased. */
async function makeBucket(dir: string): Promise<number> {
  const photos = (await readdir(source, { recursive: true })).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()));
  if (photos.length === 0) throw new Error(`bench-service: no images under ${source}`);
  for (let copy = 0; copy < copies; copy++) {
    await mkdir(join(dir, `copy-${copy}`), { recursive: true });
    for (const photo of photos) {
      const bytes = await readFile(join(source, photo));
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

/** CPU seconds (user + system, all threads) a child process has used so far, from /proc; 0 where unavailable. */
async function cpuSeconds(child: ChildProcess): Promise<number> {
  try {
    const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** One sample of every process's /metrics: the API, the cluster worker, each embed worker. */
interface Sample {
  t: number;
  api: Scrape;
  cluster: Scrape;
  embed: Scrape[];
}

async function scrape(url: string, at: number): Promise<Scrape> {
  return parseExposition(await (await fetch(url)).text(), at);
}

/** Per-second rate of an embed-worker counter between samples `back` apart, summed over the workers. */
function rate(samples: Sample[], back: number, name: string, labels: Record<string, string> = {}): [number, number | null][] {
  return samples.map((s, i) => {
    const from = samples[Math.max(0, i - back)]!;
    if (from === s) return [s.t, null];
    const delta = s.embed.reduce((sum, e, k) => sum + pick(e, name, labels) - pick(from.embed[k]!, name, labels), 0);
    return [s.t, delta / (s.t - from.t)];
  });
}

async function drawChart(file: string, samples: Sample[], title: string): Promise<void> {
  const t = (s: Sample) => s.t;
  const window = 8; // samples: 2 s
  const quantileSeries = (name: string, labels: Record<string, string>, q: number): [number, number | null][] =>
    samples.map((s, i) => [t(s), quantile(q, samples[Math.max(0, i - window)]!.embed[0]!, s.embed[0]!, name, labels)]);
  const jobStates = ['queued', 'scanning', 'embedding', 'clustering', 'exporting', 'completed'];
  const stages = ['coverage', 'clustering', 'export', 'manifest', 'report', 'events'];
  const panels: Panel[] = [
    { title: 'Jobs by state (facesets_jobs)', unit: '', series: jobStates.map((state) => ({ label: state, points: samples.map((s) => [t(s), pick(s.api, 'facesets_jobs', { state })]) })) },
    {
      title: 'Queue depth (facesets_queue_jobs)',
      unit: '',
      series: [['embed', 'waiting'], ['embed', 'active'], ['scan', 'active'], ['cluster', 'waiting-children'], ['cluster', 'active']].map(([queue, state]) => ({
        label: `${queue} ${state}`,
        points: samples.map((s) => [t(s), pick(s.api, 'facesets_queue_jobs', { queue: queue!, state: state! })]),
      })),
    },
    { title: 'Files per second (rate of facesets_files_total, 1 s)', unit: '', series: ['face', 'noface', 'error', 'cached'].map((result) => ({ label: result, points: rate(samples, 4, 'facesets_files_total', { result }) })) },
    { title: 'Faces per second (rate of facesets_faces_total, 1 s)', unit: '', series: [{ label: 'faces/s', points: rate(samples, 4, 'facesets_faces_total') }] },
    {
      title: 'Inference per file, p50 / p95 over 2 s (facesets_inference_seconds)',
      unit: 's',
      series: ['detect', 'landmark', 'embed'].flatMap((model) => [0.5, 0.95].map((q) => ({ label: `p${q * 100} ${model}`, points: quantileSeries('facesets_inference_seconds', { model }, q) }))),
    },
    {
      title: 'Decode p50 / p95 over 2 s, engine busy share',
      unit: '%',
      series: [
        {
          label: 'busy share',
          points: samples.map((s, i) => {
            const from = samples[Math.max(0, i - 4)]!;
            if (from === s) return [t(s), null];
            const busy = s.embed.reduce((sum, e, k) => sum + pick(e, 'facesets_engine_busy_seconds_total') - pick(from.embed[k]!, 'facesets_engine_busy_seconds_total'), 0);
            const workers = s.embed.reduce((sum, e) => sum + pick(e, 'facesets_engine_workers'), 0);
            return [t(s), busy / ((s.t - from.t) * Math.max(1, workers))];
          }),
        },
      ],
    },
    { title: 'Cluster stage time so far (facesets_stage_duration_seconds_sum)', unit: 's', series: stages.map((stage) => ({ label: stage, points: samples.map((s) => [t(s), pick(s.cluster, 'facesets_stage_duration_seconds_sum', { stage })]) })) },
    {
      title: 'Callback failures and reconciler actions (totals)',
      unit: '',
      series: [
        { label: 'callbacks retrying', points: samples.map((s) => [t(s), pick(s.cluster, 'facesets_callbacks_total', { result: 'retrying' })]) },
        { label: 'callbacks failed', points: samples.map((s) => [t(s), pick(s.cluster, 'facesets_callbacks_total', { result: 'failed' })]) },
        ...['redrive', 'fail', 'callback'].map((action) => ({ label: `reconciler ${action}`, points: samples.map((s): [number, number] => [t(s), pick(s.cluster, 'facesets_reconciler_actions_total', { action })]) })),
      ],
    },
  ];
  // The decode quantiles share the busy panel's time axis but not its unit: they get a panel of their own.
  panels.splice(6, 0, {
    title: 'Decode per file, p50 / p95 over 2 s (facesets_decode_seconds)',
    unit: 's',
    series: [0.5, 0.95].map((q) => ({ label: `p${q * 100} decode`, points: quantileSeries('facesets_decode_seconds', {}, q) })),
  });
  panels[5]!.title = 'Engine busy share (facesets_engine_busy_seconds_total)';
  await renderPng(file, title, panels, samples.at(-1)?.t ?? 1);
}

async function runOnce(embedWorkers: number, port: number, chart?: string): Promise<{ photos: number; seconds: number; embedded: number; cpu: number }> {
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
  // With a chart, each worker serves /metrics next to the API's port.
  const metricsPort = (k: number) => (chart ? String(port + 1000 + k) : '0');
  const children: ChildProcess[] = [];
  try {
    children.push(start('api', env), start('cluster-worker', { ...env, METRICS_PORT: metricsPort(0) }));
    const workers = Array.from({ length: embedWorkers }, (_, k) => start('embed-worker', { ...env, LOG_LEVEL: 'info', METRICS_PORT: metricsPort(k + 1) }));
    children.push(...workers);
    const base = `http://127.0.0.1:${port}`;
    await Promise.all([waitReady(base), ...workers.map((w) => waitForLog(w, 'embed worker ready'))]);
    const t0 = performance.now();
    const cpu0 = (await Promise.all(children.map(cpuSeconds))).reduce((a, b) => a + b, 0);
    if (values.mode !== 'scan') await mkdir(join(root, 'out'), { recursive: true });
    const res = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bucket, mode: values.mode, ...(values.mode === 'scan' ? {} : { outputRoot: join(root, 'out'), params: { minFaces: 3 } }) }),
    });
    if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
    const { id: jobId } = (await res.json()) as { id: string };
    const samples: Sample[] = [];
    const sample = async (): Promise<void> => {
      const at = (performance.now() - t0) / 1000;
      const [api, cluster, ...embed] = await Promise.all([
        scrape(`${base}/metrics`, at),
        ...[0, ...workers.map((_, k) => k + 1)].map((k) => scrape(`http://127.0.0.1:${metricsPort(k)}/metrics`, at)),
      ]);
      samples.push({ t: at, api: api!, cluster: cluster!, embed });
    };
    let lastSample = 0;
    for (;;) {
      if (chart && performance.now() - lastSample >= 250) {
        lastSample = performance.now();
        await sample();
      }
      const job = (await (await fetch(`${base}/jobs/${jobId}`)).json()) as { state: string; error: string | null; counters: { embedded: number } };
      if (job.state === 'completed') {
        const cpu = (await Promise.all(children.map(cpuSeconds))).reduce((a, b) => a + b, 0) - cpu0;
        const seconds = (performance.now() - t0) / 1000;
        if (chart) {
          await sample();
          await drawChart(chart, samples, `facesets: a ${values.mode} job of ${photos} photos, ${embedWorkers} embed worker(s) × ENGINE_WORKERS=${engineWorkers} (npm run bench:service)`);
          process.stdout.write(`chart: ${samples.length} samples of every /metrics → ${chart}\n`);
        }
        return { photos, seconds, embedded: job.counters.embedded, cpu };
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
  `scan+embed through the service: ${copies} distinct copies of ${values.dir ? source : 'the fixtures'}, ENGINE_WORKERS=${engineWorkers} per ` +
    `process, EMBED_BATCH_SIZE=${values.batch}, ${availableParallelism()} cores\n`,
);
for (const [i, n] of workerCounts.entries()) {
  const r = await runOnce(n, Number(values.port) + i, values.chart && i === workerCounts.length - 1 ? resolve(values.chart) : undefined);
  // CPU of all service processes per photo: unlike wall time it hardly moves when other programs share the machine.
  const cpuMs = (r.cpu * 1000) / r.photos;
  process.stdout.write(
    `${n} embed worker${n > 1 ? 's' : ' '}: ${r.photos} photos (${r.embedded} embedded) in ${r.seconds.toFixed(1)} s ` +
      `= ${(r.photos / r.seconds).toFixed(1)} photos/s (POST /jobs → completed); cpu ${cpuMs.toFixed(0)} ms per photo ` +
      `(${availableParallelism()} idle cores would allow ≤ ${((availableParallelism() * 1000) / cpuMs).toFixed(1)} photos/s)\n`,
  );
}
