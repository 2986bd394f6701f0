// One trace per job: POST /jobs → scan → every embed batch → cluster stage, exported to the SDK's in-memory exporter.
import type { FastifyInstance } from 'fastify';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '@facesets/shared/telemetry/tracing';
import { buildApp } from '../../services/api/src/app';
import { closeSharedEngine, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

const exporter = new InMemorySpanExporter();
let tracing: Tracing | null;
let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;

beforeAll(async () => {
  // Before any queue or worker exists: they take BullMQ's telemetry when created, as in main.ts.
  tracing = startTracing('facesets-test', { exporter });
  env = await createTestEnv({ EMBED_BATCH_SIZE: '10' });
  workers = await startWorkers(env);
  app = await buildApp({ config: env.config, tracing: true });
});

afterAll(async () => {
  await app?.close();
  await workers?.close();
  await closeSharedEngine();
  await env?.close();
  await tracing?.shutdown();
});

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

describe('traces', () => {
  it('follow a job from POST /jobs through the scan, every embed batch and the cluster stage in one trace', async () => {
    const bucket = await env.fixtureBucket('photos', 'people');
    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');
    await tracing!.flush();

    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.attributes['http.route'] === '/jobs' && s.attributes['http.request.method'] === 'POST');
    expect(request, spans.map((s) => s.name).join(', ')).toBeDefined();
    const trace = spans.filter((s) => s.spanContext().traceId === request!.spanContext().traceId);
    const byId = new Map(trace.map((s) => [s.spanContext().spanId, s]));
    const processed = (queue: string) => trace.filter((s) => s.name === `process ${queue}`);

    // The scan's consumer span hangs under the producer span the request opened.
    const [scan] = processed('scan');
    expect(scan).toBeDefined();
    const scanAdd = byId.get(parentOf(scan!)!);
    expect(scanAdd?.name).toBe('add scan.scan');
    let up: ReadableSpan | undefined = scanAdd;
    while (up && up !== request) up = byId.get(parentOf(up) ?? '');
    expect(up).toBe(request);

    // Every batch (the distinct photos in batches of 10, and the fan-out's empty barrier) and the cluster stage join it.
    const batches = processed('embed').map((s) => String(s.attributes['bullmq.job.id'])).sort();
    const expected = [...Array.from({ length: Math.ceil(job.counters.embedded / 10) }, (_, b) => `embed-${id}-${b}`), `embed-${id}-barrier`].sort();
    expect(job.counters.embedded).toBeGreaterThan(40);
    expect(batches).toEqual(expected);
    expect(processed('cluster').map((s) => s.attributes['bullmq.job.id'])).toEqual([`cluster-${id}`]);
    // All of them descend from the scan's consumer span (it added the flow).
    for (const span of [...processed('embed'), ...processed('cluster')]) {
      let node: ReadableSpan | undefined = span;
      while (node && node !== scan) node = byId.get(parentOf(node) ?? '');
      expect(node, span.name).toBe(scan);
    }
    // BullMQ's own polls make no spans, let alone traces of their own.
    expect(spans.some((s) => /getNextJob|moveStalledJobsToWait/.test(s.name))).toBe(false);
  });
});
