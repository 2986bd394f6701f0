// A discover job whose linkage is split into parts and clustered by two cluster-worker processes: the face sets,
// numbering and report are exactly those of the same discovery run in one process.
import { cp, mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '@facesets/shared/clustering/discover';
import { compareFaces } from '@facesets/shared/clustering/types';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { createLogger } from '@facesets/shared/logger';
import { DEFAULT_PARAMS } from '@facesets/shared/params';
import { startEmbedWorkers } from '../../services/embed-worker/src/workers';
import { startChildService, waitForOutput, type ChildService } from '../support/child-worker';
import { closeSharedEngine, sharedEngine, startApi, submit, waitForJob } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';

/** As in discover-jobs.test.ts: the fixture people hold 3–5 photos each and the TV-cast faces are small. */
// dedupe off: the sets are compared with discovery's own plans, which know nothing of curation (issue 15).
const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 128, dedupe: false };

let env: TestEnv;
let app: FastifyInstance;
let embed: { close(): Promise<void> };
const workers: ChildService[] = [];

beforeAll(async () => {
  // Every discovery is split (threshold 0) into up to 6 parts; info logs show which process clustered which part.
  env = await createTestEnv({ CLUSTER_DISTRIBUTE_ABOVE: '0', CLUSTER_PARTS: '6' });
  app = await startApi(env);
  embed = startEmbedWorkers({ config: env.config, db: env.db, engine: await sharedEngine(env), log: createLogger('test-embed', 'warn') });
  for (let k = 0; k < 2; k++) workers.push(startChildService('cluster-worker', { ...env.env, LOG_LEVEL: 'info' }));
  await Promise.all(workers.map((w) => waitForOutput(w, 'cluster worker ready')));
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await embed?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('discovery across two cluster-worker processes', () => {
  it('clusters the parts on both workers and joins them into the one-process result', async () => {
    const bucket = join(env.bucketsDir, 'people');
    await cp(join(FIXTURES_DIR, 'people'), bucket, { recursive: true });
    const out = join(env.outputDir, 'split');
    await mkdir(out);
    const id = await submit(app, { bucket, outputRoot: out, params: PARAMS });
    const job = await waitForJob(app, id, { timeoutMs: 240_000 });
    expect(job.error).toBeNull();
    expect(job.state).toBe('completed');

    // The same faces discovered in this process, without parts: the reference.
    const faces = await new FacesRepository(env.db).facesOfJobWithPaths(id, await modelPackOf(id));
    const reference = await discover(faces.sort(compareFaces), { ...DEFAULT_PARAMS, ...PARAMS });
    const report = (await app.inject({ method: 'GET', url: `/jobs/${id}/report` })).json();
    const { facesets, ...counts } = report.discovery;
    expect(counts).toEqual(reference.report);
    expect(facesets.map((f: { inputFaces: number; exported: number }) => [f.inputFaces, f.exported])).toEqual(
      reference.plans.map((p) => [p.inputFaces, p.members.length]),
    );
    // Same members in the same numbered sets (small ones under _thin/).
    const dirs: { name: string; dir: string }[] = [];
    for (const sub of ['', '_thin']) {
      for (const n of await readdir(join(out, sub)).catch((): string[] => [])) if (n.startsWith('faceset_')) dirs.push({ name: n, dir: join(out, sub, n) });
    }
    dirs.sort((a, b) => a.name.localeCompare(b.name));
    expect(dirs.length).toBe(reference.plans.filter((p) => p.members.length).length);
    const onDisk = await Promise.all(
      dirs.map(async (d) => JSON.parse(await readFile(join(d.dir, 'faceset.json'), 'utf8')).members.map((m: { sha256: string }) => m.sha256).sort()),
    );
    expect(onDisk).toEqual(reference.plans.filter((p) => p.members.length).map((p) => p.members.map((m) => m.face.sha256).sort()));

    // Both processes clustered parts.
    const partsBy = workers.map((w) => (w.output().match(/part clustered/g) ?? []).length);
    expect(partsBy.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    expect(partsBy.every((n) => n > 0), `parts per worker: ${partsBy.join(', ')}`).toBe(true);
  }, 300_000);
});

async function modelPackOf(jobId: string): Promise<string> {
  const { rows } = await env.db.query<{ model_pack: string }>('SELECT model_pack FROM jobs WHERE id = $1', [jobId]);
  return rows[0]!.model_pack;
}
