// /metrics and the queue board (/admin/queues) behind API_TOKEN: what they answer with and without it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

const TOKEN = 'ops-test-token';
let env: TestEnv;
let app: FastifyInstance;

const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}` });

beforeAll(async () => {
  env = await createTestEnv({ API_TOKEN: TOKEN });
  app = await startApi(env);
});

afterAll(async () => {
  await app?.close();
  await env?.close();
});

describe('operations endpoints behind the token', () => {
  it('GET /metrics needs the token and reports the queued job in Postgres and in its queue', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const bucket = await env.fixtureBucket('b', 'misc');
    // No worker runs here: the job stays queued and its scan waits in the queue.
    const res = await app.inject({ method: 'POST', url: '/jobs', headers: bearer, payload: { bucket, mode: 'scan' } });
    expect(res.statusCode).toBe(202);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: bearer });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('facesets_jobs{mode="scan",state="queued"} 1');
    expect(metrics.body).toContain('facesets_jobs{mode="discover",state="completed"} 0');
    expect(metrics.body).toContain('facesets_queue_jobs{queue="scan",state="waiting"} 1');
    expect(metrics.body).toContain('facesets_queue_jobs{queue="callback",state="failed"} 0');
    expect(metrics.body).toContain('facesets_metrics_source_up{source="postgres"} 1');
    expect(metrics.body).toMatch(/^process_cpu_seconds_total /m);
    // The 401s and the POST are counted under their route patterns.
    expect(metrics.body).toContain('facesets_http_request_duration_seconds_count{method="GET",route="/metrics",status_code="401"} 1');
    expect(metrics.body).toContain('facesets_http_request_duration_seconds_count{method="POST",route="/jobs",status_code="202"} 1');
  });

  it('the queue board asks a browser for the token (Basic, any user) and lists every queue', async () => {
    const anonymous = await app.inject({ method: 'GET', url: '/admin/queues' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect((await app.inject({ method: 'GET', url: '/admin/queues', headers: basic('wrong') })).statusCode).toBe(401);
    // Elsewhere Basic is no substitute for the bearer token.
    expect((await app.inject({ method: 'GET', url: '/jobs', headers: basic(TOKEN) })).statusCode).toBe(401);

    const page = await app.inject({ method: 'GET', url: '/admin/queues', headers: basic(TOKEN) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('<base href="/admin/queues/" />');
    const asset = /static\/js\/[^"]+\.js/.exec(page.body)![0];
    expect((await app.inject({ method: 'GET', url: `/admin/queues/${asset}`, headers: basic(TOKEN) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/admin/queues/${asset}` })).statusCode).toBe(401);

    const api = await app.inject({ method: 'GET', url: '/admin/queues/api/queues?activeQueue=scan&status=waiting', headers: bearer });
    expect(api.statusCode).toBe(200);
    const { queues } = api.json<{ queues: { name: string; readOnlyMode: boolean; counts: Record<string, number>; jobs: { id: string }[] }[] }>();
    expect(queues.map((q) => q.name).sort()).toEqual(['callback', 'cluster', 'cluster-part', 'embed', 'scan']);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    const scan = queues.find((q) => q.name === 'scan')!;
    expect(scan.counts.waiting).toBe(1);
    expect(scan.jobs.map((j) => j.id)).toEqual([expect.stringMatching(/^scan-/)]);
  });

  it('hides the board from the OpenAPI document and lists /metrics there', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toContain('/metrics');
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/admin'))).toBe(false);
  });
});
