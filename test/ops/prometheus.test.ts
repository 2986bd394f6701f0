// The real Prometheus scrapes the API and both workers (the repo's scrape config pointed at this test's stack) while a
// discover job runs; its HTTP API then answers with the job and the files; promtool accepts every endpoint and config.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '@facesets/shared/config';
import { createLogger } from '@facesets/shared/logger';
import { ClusterMetrics, EmbedMetrics, createRegistry } from '@facesets/shared/metrics/metrics';
import { startMetricsServer, type MetricsServer } from '@facesets/shared/metrics/metrics-server';
import { closeSharedEngine, sharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

const run = promisify(execFile);
const DEPLOY = join(REPO_ROOT, 'deploy');

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
let servers: MetricsServer[] = [];
let prometheus: ChildProcess | undefined;
let promUrl = '';
const endpoints: Record<string, string> = {};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: unknown;
  static_configs?: { targets: string[] }[];
  scrape_interval?: string;
}

/** deploy/prometheus.yml with each job's service discovery replaced by this stack's address, scraped every second. */
async function testScrapeConfig(targets: Record<string, string>): Promise<string> {
  const config = parse(await readFile(join(DEPLOY, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
  };
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = config.rule_files.map((f) => join(DEPLOY, f));
  expect(config.scrape_configs.map((s) => s.job_name).sort()).toEqual(Object.keys(targets).sort());
  for (const job of config.scrape_configs) {
    delete job.dns_sd_configs;
    job.static_configs = [{ targets: [targets[job.job_name]!] }];
  }
  // JSON is YAML: Prometheus reads it as it is.
  return JSON.stringify(config);
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
  return body.data.result;
}

const sum = (samples: Sample[]) => samples.reduce((s, x) => s + Number(x.value[1]), 0);

beforeAll(async () => {
  env = await createTestEnv();
  const log = createLogger('test-metrics', env.config.logLevel);
  const embedRegistry = createRegistry();
  const clusterRegistry = createRegistry();
  const embed = new EmbedMetrics(embedRegistry, await sharedEngine(env));
  const cluster = new ClusterMetrics(clusterRegistry);
  workers = await startWorkers(env, { metrics: { embed, cluster } });
  servers = await Promise.all([embedRegistry, clusterRegistry].map((r) => startMetricsServer(r, { host: '127.0.0.1', port: 0, log })));
  app = await startApi(env);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const apiPort = (app.server.address() as AddressInfo).port;
  Object.assign(endpoints, {
    'facesets-api': `127.0.0.1:${apiPort}`,
    'facesets-embed-worker': `127.0.0.1:${servers[0]!.port}`,
    'facesets-cluster-worker': `127.0.0.1:${servers[1]!.port}`,
  });

  const configFile = join(env.root, 'prometheus.json');
  await writeFile(configFile, await testScrapeConfig(endpoints));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(env.root, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<never>((_, reject) => prometheus!.once('error', reject).once('exit', (code) => reject(new Error(`prometheus exited (${code}): ${stderr}`))));
  const ready = (async () => {
    for (;;) {
      const ok = await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await Promise.race([ready, exited]);
});

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await app?.close();
  await workers?.close();
  await Promise.all(servers.map((s) => s.close()));
  await closeSharedEngine();
  await env?.close();
});

describe('Prometheus against the running service', () => {
  it('scrapes every process while a discover job runs, and answers with the job and the files', async () => {
    // Every target is up before the job: the counters' first samples are their zeros, so rate() sees the job.
    await expect.poll(async () => (await query('up')).map((s) => `${s.metric.job}=${s.value[1]}`).sort(), { timeout: 20_000, interval: 250 })
      .toEqual(['facesets-api=1', 'facesets-cluster-worker=1', 'facesets-embed-worker=1']);
    const bucket = await env.fixtureBucket('photos', 'people');
    const id = await submit(app, {
      bucket,
      outputRoot: env.outputDir,
      params: { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 64 },
    });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');

    // The series arrive with the first scrape after completion.
    await expect.poll(async () => sum(await query('facesets_jobs{state="completed",mode="discover"}')), { timeout: 20_000, interval: 500 }).toBe(1);
    await expect.poll(async () => sum(await query('facesets_files_total{result="face"}')), { timeout: 20_000, interval: 500 }).toBe(job.counters.embedded);
    expect(job.counters.embedded).toBeGreaterThan(40);
    expect(sum(await query('facesets_faces_total'))).toBeGreaterThanOrEqual(job.counters.embedded);

    await expect.poll(async () => Object.fromEntries((await query('facesets_inference_seconds_count')).map((s) => [s.metric.model, Number(s.value[1])])), { timeout: 20_000, interval: 500 })
      .toEqual({ detect: job.counters.embedded, landmark: job.counters.embedded, embed: job.counters.embedded });
    // Each target is scraped on its own clock: the cluster worker's last steps may be a scrape behind the API's view.
    await expect.poll(async () => (await query('facesets_stage_duration_seconds_count')).map((s) => s.metric.stage).sort(), { timeout: 20_000, interval: 500 })
      .toEqual(['clustering', 'coverage', 'events', 'export', 'formats', 'manifest', 'report']);
    expect(sum(await query('facesets_discovery_faces_count'))).toBe(1);
    const queues = new Set((await query('facesets_queue_jobs')).map((s) => s.metric.queue));
    expect(queues).toEqual(new Set(['scan', 'embed', 'cluster', 'cluster-part', 'callback']));
    expect(sum(await query('facesets_http_request_duration_seconds_count{route="/jobs",method="POST",status_code="202"}'))).toBe(1);
    // Route patterns, never URLs with ids in them.
    const routes = (await query('facesets_http_request_duration_seconds_count')).map((s) => s.metric.route);
    expect(routes).toContain('/jobs/:id');
    expect(routes.some((r) => r?.includes(id))).toBe(false);

    // A decision through the API, and the identities the job made.
    const identities = (await app.inject({ method: 'GET', url: `/identities?outputRoot=${encodeURIComponent(env.outputDir)}` })).json<{ items: { id: string }[] }>().items;
    expect(identities.length).toBeGreaterThan(3);
    expect((await app.inject({ method: 'PATCH', url: `/identities/${identities[0]!.id}`, payload: { label: 'Ada' } })).statusCode).toBe(200);
    await expect.poll(async () => sum(await query('facesets_decisions_total{kind="label"}')), { timeout: 20_000, interval: 500 }).toBe(1);
    expect(sum(await query('facesets_decisions_total{kind!="label"}'))).toBe(0);
    expect(sum(await query('facesets_identities{state="active"}'))).toBe(identities.length);

    // Every query of the dashboard is valid PromQL for this server.
    const dashboard = JSON.parse(await readFile(join(DEPLOY, 'grafana', 'dashboards', 'facesets.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    for (const expr of dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))) await query(expr);
    expect(sum(await query('sum by (model) (rate(facesets_inference_seconds_count[1m]))'))).toBeGreaterThan(0);
  });

  it('promtool accepts every endpoint\'s metrics, the scrape config and the alert rules', async () => {
    for (const [job, target] of Object.entries(endpoints)) {
      const body = await (await fetch(`http://${target}/metrics`)).text();
      expect(body, job).toMatch(/^facesets_/m);
      const check = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      check.stdout.on('data', (d) => (out += d));
      check.stderr.on('data', (d) => (out += d));
      check.stdin.end(body);
      const code = await new Promise<number | null>((resolve) => check.once('exit', resolve));
      expect({ job, code, out }).toEqual({ job, code: 0, out: '' });
    }
    const config = await run('promtool', ['check', 'config', join(DEPLOY, 'prometheus.yml')]);
    expect(config.stdout).toMatch(/SUCCESS: .*prometheus\.yml is valid/);
    expect(config.stdout).toMatch(/SUCCESS: 6 rules found/);
  });
});
