// Cluster worker kill -9 in `clustering`, in `exporting` (crops in temp folders) and after the manifest was written:
// the restarted stage redoes its work once, leaves no temp entries, writes report and contact sheets, calls back once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedWorkers } from '../../services/embed-worker/src/workers';
import { createLogger } from '@facesets/shared/logger';
import { closeSharedEngine, sharedEngine, startApi, submit, waitForJob } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';
import { eventually, figure, queueWorkLeft, ready, supervise } from './support/faults';

const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 128 };
const PEOPLE = ['amy', 'howard', 'leonard'];

let env: TestEnv;
let app: FastifyInstance;
let embed: { close(): Promise<void> };
let receiver: Server;
let receiverUrl: string;
const hits: { jobId: string }[] = [];

beforeAll(async () => {
  env = await createTestEnv({
    LOCK_DURATION_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
    RECONCILE_INTERVAL_MS: '500',
    RECONCILE_AFTER_MS: '2000',
    LOG_LEVEL: 'info',
  });
  app = await startApi(env);
  embed = startEmbedWorkers({ config: env.config, db: env.db, engine: await sharedEngine(env), log: createLogger('test-embed', 'warn') });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push(JSON.parse(body) as { jobId: string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  await embed?.close();
  await closeSharedEngine();
  await app?.close();
  await env?.close();
});

async function peopleBucket(name: string): Promise<string> {
  const bucket = join(env.bucketsDir, name);
  await mkdir(bucket, { recursive: true });
  for (const who of PEOPLE) {
    const photos = (await readdir(join(FIXTURES_DIR, 'people', who))).sort().slice(0, 3);
    for (const p of photos) await copyFile(join(FIXTURES_DIR, 'people', who, p), join(bucket, `${who}_${p}`));
  }
  return bucket;
}

/** Every entry under `dir` whose name starts with `.tmp` (temp folders and atomic-write files). */
async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((p) => p.split('/').some((part) => part.startsWith('.tmp')));
}

const exists = (p: string) => stat(p).then(() => true, () => false);

const cases = [
  { point: 'clustering', killWhen: 'the job is clustering' },
  { point: 'exporting', killWhen: 'the crops sit in temp folders' },
  { point: 'reporting', killWhen: 'the sets and the manifest are written, the report is not' },
  { point: 'callback', killWhen: 'the job is completed and its callback not queued yet' },
] as const;

describe('cluster worker kill -9 (finding 1)', () => {
  for (const { point, killWhen } of cases) {
    it(`killed when ${killWhen}: the restarted stage converges`, { timeout: 240_000 }, async () => {
      const out = join(env.outputDir, point);
      await mkdir(out);
      const worker = supervise('cluster-worker', { ...env.env, FACESETS_TEST_HOLD: `${point}:2500` });
      try {
        await ready(worker, 'cluster worker ready');
        const id = await submit(app, { bucket: await peopleBucket(point), outputRoot: out, params: PARAMS, callbackUrl: receiverUrl });
        await eventually(`the cluster stage at ${point}`, async () => {
          const { rows } = await env.db.query('SELECT state FROM jobs WHERE id = $1', [id]);
          const state = rows[0]?.state as string;
          if (point === 'clustering') return state === 'clustering' ? true : undefined;
          if (point === 'exporting') return state === 'exporting' && (await temps(out)).length > 0 ? true : undefined;
          if (point === 'callback') return state === 'completed' ? true : undefined;
          const manifest = await readFile(join(out, 'manifest.json'), 'utf8').catch(() => '');
          return manifest.includes(id) ? true : undefined;
        }, 180_000, 50);
        await worker.kill9();
        const killed = Date.now();
        if (point === 'callback') {
          await eventually('the callback', async () => (hits.some((h) => h.jobId === id) ? true : undefined), 60_000);
          figure('cluster worker kill -9 between completion and callback -> callback delivered', Date.now() - killed);
        }
        const job = await waitForJob(app, id, { timeoutMs: 120_000 });
        figure(`cluster worker kill -9 in ${point} -> job completed`, Date.now() - killed);
        expect(job.state, worker.output().slice(-3000)).toBe('completed');
        expect(job.error).toBeNull();
        const added = (job.summary?.added ?? []) as string[];
        expect(added.length).toBeGreaterThan(0);

        expect(await temps(out)).toEqual([]);
        const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { facesets: { name: string; jobId: string }[]; thin_eras: { name: string }[] };
        const listed = [...manifest.facesets, ...manifest.thin_eras].map((e) => e.name);
        expect(listed.sort()).toEqual([...added].sort());
        const onDisk = [...(await readdir(out)), ...((await readdir(join(out, '_thin')).catch(() => [])) as string[])].filter((n) => n.startsWith('faceset_'));
        expect(onDisk.sort()).toEqual([...added].sort());
        // Numbered from 001 without gaps, each once.
        expect([...added].sort()).toEqual(added.map((_, i) => `faceset_${String(i + 1).padStart(3, '0')}`));
        expect(await exists(join(out, '_reports', `${id}.md`))).toBe(true);
        for (const name of added) expect(await exists(join(out, '_reports', id, `${name}.png`)), name).toBe(true);

        await eventually('the callback', async () => (hits.some((h) => h.jobId === id) ? true : undefined), 30_000);
        // The killed worker's cluster job stays active until its lock expires and the new worker's stall check hands
        // it back (seconds, and later than the reconciler's callback when the machine is busy): once it has run
        // again, nothing is left queued and the callback still went out once.
        expect(await queueWorkLeft(env.config.redisUrl, env.config.queuePrefix, 60_000)).toEqual({});
        await new Promise((r) => setTimeout(r, 1500));
        expect(hits.filter((h) => h.jobId === id)).toHaveLength(1);
      } finally {
        await worker.stop();
      }
    });
  }
});
