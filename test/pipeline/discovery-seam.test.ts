// discover/extend jobs reach the discovery stage after scan+embed, with the scan report and every face recorded.
import { UnrecoverableError } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoverInput } from '../../services/cluster-worker/src/cluster.processor';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import { closeSharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
const calls: { input: DiscoverInput; faces: number; reportBefore: unknown }[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  app = await startApi(env);
  workers = await startWorkers(env, {
    async discoverOrExtend(input, deps) {
      if (input.mode === 'extend') throw new UnrecoverableError('coverage exploded');
      const faces = await deps.faces.facesOfJobWithPaths(input.jobId, input.modelPack);
      const reportBefore = (await new JobsRepository(env.db).getReport(input.jobId))?.report;
      calls.push({ input, faces: faces.length, reportBefore });
      expect(await deps.enterExporting!()).toBe(true);
      const coverage = { identities: [], covered: 0, unmatchedMembers: 0 };
      return {
        coverage,
        discovery: null,
        added: [],
        extended: [],
        report: { ...input.report, coverage },
        event: { outputRoot: input.outputRoot, jobId: input.jobId, added: [], extended: [] },
      };
    },
  });
});

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('discovery seam', () => {
  it('hands a discover job to discovery once every batch is embedded, then completes it with its result', async () => {
    const bucket = await env.fixtureBucket('people', 'people');
    const id = await submit(app, { bucket, outputRoot: env.outputDir, mode: 'discover' });
    const job = await waitForJob(app, id);
    expect(job.error).toBeNull();
    expect(job.state).toBe('completed');
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.input.mode).toBe('discover');
    expect(call.input.report.scan.files.embedded + call.input.report.scan.files.cached).toBe(50);
    expect(call.faces).toBe(job.counters.faces);
    expect(call.reportBefore).toMatchObject({ mode: 'discover', scan: { files: { found: 52 } } });
    expect(job.summary).toMatchObject({ added: [], extended: [], facesCovered: 0, sources: 50 });
    const report = (await app.inject({ method: 'GET', url: `/jobs/${id}/report` })).json();
    expect(report.coverage).toEqual({ identities: [], covered: 0, unmatchedMembers: 0 });
  });

  it('fails the job, naming the stage, when discovery fails for good', async () => {
    const bucket = await env.fixtureBucket('obama', 'people/obama');
    const id = await submit(app, { bucket, outputRoot: env.outputDir, mode: 'extend' });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('failed');
    expect(job.error).toBe('cluster failed: coverage exploded');
    // The scan part stays readable.
    const report = (await app.inject({ method: 'GET', url: `/jobs/${id}/report` })).json();
    expect(report.scan.files.found).toBe(4);
  });
});
