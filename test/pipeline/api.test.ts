// The API without workers: every validation error, idempotency, auth, listing, cancel of queued work, health, docs.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@facesets/shared/config';
import { buildApp } from '../../services/api/src/app';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;
let app: FastifyInstance;
let bucket: string;
let outside: string;

beforeAll(async () => {
  env = await createTestEnv();
  bucket = join(env.bucketsDir, 'b1');
  await mkdir(bucket, { recursive: true });
  await writeFile(join(bucket, 'photo.jpg'), 'x');
  outside = join(env.root, 'not-allowed');
  await mkdir(outside, { recursive: true });
  await symlink(outside, join(env.bucketsDir, 'link-out'));
  app = await buildApp({ config: env.config });
});

afterAll(async () => {
  await app?.close();
  await env?.close();
});

async function post(payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/jobs', payload: payload as object, headers });
}

describe('POST /jobs validation', () => {
  const cases: [string, () => Record<string, unknown>, RegExp][] = [
    ['missing bucket', () => ({ mode: 'scan' }), /^body\/bucket is required$/],
    ['relative bucket', () => ({ bucket: 'photos/b1', mode: 'scan' }), /^body\/bucket must be an absolute path$/],
    ['bucket that does not exist', () => ({ bucket: join(env.bucketsDir, 'nope'), mode: 'scan' }), /^body\/bucket does not exist/],
    ['bucket that is a file', () => ({ bucket: join(bucket, 'photo.jpg'), mode: 'scan' }), /^body\/bucket is not a directory/],
    ['bucket outside the roots', () => ({ bucket: outside, mode: 'scan' }), /^body\/bucket must lie under an allowed root \(BUCKET_ROOTS\)/],
    ['bucket escaping with ..', () => ({ bucket: `${env.bucketsDir}/../not-allowed`, mode: 'scan' }), /^body\/bucket must lie under an allowed root/],
    ['bucket escaping through a symlink', () => ({ bucket: join(env.bucketsDir, 'link-out'), mode: 'scan' }), /^body\/bucket must lie under an allowed root/],
    ['bucket of the wrong type', () => ({ bucket: { path: '/x' }, mode: 'scan' }), /^body\/bucket must be string$/],
    ['unknown mode', () => ({ bucket, mode: 'paint' }), /^body\/mode must be one of discover, scan, extend, import$/],
    ['discover without output root', () => ({ bucket }), /^body\/outputRoot is required for mode discover$/],
    ['extend without output root', () => ({ bucket, mode: 'extend' }), /^body\/outputRoot is required for mode extend$/],
    ['import without output root', () => ({ bucket, mode: 'import' }), /^body\/outputRoot is required for mode import$/],
    ['unknown era split', () => ({ bucket, mode: 'scan', params: { eras: 'decade' } }), /^body\/params\/eras must be one of none, date, appearance, auto$/],
    ['era gap that is not positive', () => ({ bucket, mode: 'scan', params: { eraGapYears: 0 } }), /^body\/params\/eraGapYears must be >= 0.01$/],
    ['importAsNew not a boolean', () => ({ bucket, mode: 'scan', params: { importAsNew: 'perhaps' } }), /^body\/params\/importAsNew must be boolean$/],
    ['relative output root', () => ({ bucket, outputRoot: 'out' }), /^body\/outputRoot must be an absolute path$/],
    ['output root outside the roots', () => ({ bucket, outputRoot: outside }), /^body\/outputRoot must lie under an allowed root \(OUTPUT_ROOTS\)/],
    ['output root that does not exist', () => ({ bucket, outputRoot: join(env.outputDir, 'x') }), /^body\/outputRoot does not exist/],
    ['param out of range', () => ({ bucket, mode: 'scan', params: { detThreshold: 1.5 } }), /^body\/params\/detThreshold must be <= 1$/],
    ['negative param', () => ({ bucket, mode: 'scan', params: { minFaces: 0 } }), /^body\/params\/minFaces must be >= 1$/],
    ['param of the wrong type', () => ({ bucket, mode: 'scan', params: { clusterThreshold: 'far' } }), /^body\/params\/clusterThreshold must be number$/],
    ['non-integer param', () => ({ bucket, mode: 'scan', params: { exportSize: 100.5 } }), /^body\/params\/exportSize must be integer$/],
    ['unknown param', () => ({ bucket, mode: 'scan', params: { colour: 1 } }), /^body\/params\/colour is not a known property$/],
    ['unknown field', () => ({ bucket, mode: 'scan', priority: 1 }), /^body\/priority is not a known property$/],
    ['force not a boolean', () => ({ bucket, mode: 'scan', force: 'yes' }), /^body\/force must be boolean$/],
    ['callback that is not a URL', () => ({ bucket, mode: 'scan', callbackUrl: 'nope' }), /^body\/callbackUrl must be an absolute http\(s\) URL$/],
    ['callback with another scheme', () => ({ bucket, mode: 'scan', callbackUrl: 'file:///etc/passwd' }), /^body\/callbackUrl must be an absolute http\(s\) URL$/],
  ];

  for (const [name, body, message] of cases) {
    it(`rejects ${name} with a 400 naming the field`, async () => {
      const res = await post(body());
      expect(res.statusCode).toBe(400);
      const json = res.json();
      expect(json).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
    });
  }

  it('rejects a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/jobs',
      payload: '{"bucket":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('refuses every bucket when no roots are configured', async () => {
    const bare = await buildApp({ config: { ...env.config, bucketRoots: [] } });
    try {
      const res = await bare.inject({ method: 'POST', url: '/jobs', payload: { bucket, mode: 'scan' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/no allowed roots are configured \(set BUCKET_ROOTS\)/);
    } finally {
      await bare.close();
    }
  });
});

describe('POST /jobs', () => {
  it('accepts a job, stores the canonical bucket and defaults, and queues its scan', async () => {
    const res = await post({ bucket: `${env.bucketsDir}/./b1/`, mode: 'scan', params: { detThreshold: 0.7 } });
    expect(res.statusCode).toBe(202);
    const { id, state, links } = res.json();
    expect(state).toBe('queued');
    expect(links).toEqual({ self: `/jobs/${id}`, report: `/jobs/${id}/report` });
    const job = (await app.inject({ method: 'GET', url: `/jobs/${id}` })).json();
    expect(job).toMatchObject({ id, mode: 'scan', state: 'queued', bucket, force: false });
    expect(job.params).toMatchObject({ detThreshold: 0.7, clusterThreshold: 0.55, minFaces: 6 });
    expect(job.counters).toEqual({ found: 0, skipped: 0, aliases: 0, cached: 0, embedded: 0, noface: 0, errors: 0, faces: 0 });
    expect(job.progress.percent).toBe(0);
    const queued = await app.queues.scan.getJob(`scan-${id}`);
    expect(queued?.data).toEqual({ jobId: id });
  });

  it('returns the same job for a repeated Idempotency-Key, and refuses the key for another request', async () => {
    const body = { bucket, mode: 'scan' };
    const a = await post(body, { 'idempotency-key': 'k-1' });
    const b = await post(body, { 'idempotency-key': 'k-1' });
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(b.json().id).toBe(a.json().id);
    expect(b.headers['idempotent-replayed']).toBe('true');
    const c = await post({ ...body, force: true }, { 'idempotency-key': 'k-1' });
    expect(c.statusCode).toBe(409);
    expect(c.json().message).toMatch(/Idempotency-Key/);
    const d = await post(body, { 'idempotency-key': 'k-2' });
    expect(d.json().id).not.toBe(a.json().id);
  });

  it('accepts discover with an output root', async () => {
    const res = await post({ bucket, outputRoot: env.outputDir, callbackUrl: 'https://example.test/hook' });
    expect(res.statusCode).toBe(202);
    const job = (await app.inject({ method: 'GET', url: `/jobs/${res.json().id}` })).json();
    expect(job).toMatchObject({ mode: 'discover', outputRoot: env.outputDir });
  });
});

describe('GET /jobs', () => {
  it('lists newest first, filters by state and pages with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post({ bucket, mode: 'scan' })).json().id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await app.inject({ method: 'GET', url })).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((j: { id: string }) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);

    await app.inject({ method: 'DELETE', url: `/jobs/${ids[0]}` });
    const cancelled = (await app.inject({ method: 'GET', url: '/jobs?state=cancelled' })).json();
    expect(cancelled.items.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
  });

  it('rejects a bad state filter, limit or cursor', async () => {
    expect((await app.inject({ method: 'GET', url: '/jobs?state=done' })).json().message).toMatch(/^querystring\/state must be one of/);
    expect((await app.inject({ method: 'GET', url: '/jobs?limit=0' })).json().message).toBe('querystring/limit must be >= 1');
    const bad = await app.inject({ method: 'GET', url: '/jobs?cursor=garbage' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toBe('querystring/cursor is not valid');
  });
});

describe('GET /jobs/:id, DELETE /jobs/:id, report', () => {
  it('answers 404 for an unknown job and 400 for a malformed id', async () => {
    const missing = await app.inject({ method: 'GET', url: '/jobs/00000000-0000-4000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ statusCode: 404, error: 'Not Found', message: expect.stringMatching(/does not exist/) });
    const bad = await app.inject({ method: 'GET', url: '/jobs/42' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^params\/id must match format "uuid"$/);
    expect((await app.inject({ method: 'DELETE', url: '/jobs/00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/jobs/00000000-0000-4000-8000-000000000000/report' })).statusCode).toBe(404);
  });

  it('cancels a queued job: its scan leaves the queue, a second cancel conflicts', async () => {
    const id = (await post({ bucket, mode: 'scan' })).json().id;
    expect(await app.queues.scan.getJob(`scan-${id}`)).toBeDefined();
    const res = await app.inject({ method: 'DELETE', url: `/jobs/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, state: 'cancelled' });
    expect(res.json().finishedAt).not.toBeNull();
    expect(await app.queues.scan.getJob(`scan-${id}`)).toBeUndefined();
    const again = await app.inject({ method: 'DELETE', url: `/jobs/${id}` });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/already cancelled/);
  });

  it('has no report before the job finishes its scan', async () => {
    const id = (await post({ bucket, mode: 'scan' })).json().id;
    const res = await app.inject({ method: 'GET', url: `/jobs/${id}/report` });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/no report yet/);
  });
});

describe('auth, health, docs, errors', () => {
  let secured: FastifyInstance;

  beforeAll(async () => {
    secured = await buildApp({ config: { ...env.config, apiToken: 's3cret' } });
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('requires the bearer token on job routes when API_TOKEN is set', async () => {
    for (const [method, url] of [
      ['GET', '/jobs'],
      ['POST', '/jobs'],
      ['GET', '/jobs/00000000-0000-4000-8000-000000000000'],
      ['DELETE', '/jobs/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const res = await secured.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
    const wrong = await secured.inject({ method: 'GET', url: '/jobs', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const right = await secured.inject({ method: 'GET', url: '/jobs', headers: { authorization: 'Bearer s3cret' } });
    expect(right.statusCode).toBe(200);
  });

  it('leaves health, readiness and docs open', async () => {
    expect((await secured.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await secured.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    const doc = await secured.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const spec = doc.json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/jobs', '/jobs/{id}', '/jobs/{id}/report', '/healthz', '/readyz']),
    );
    expect(spec.paths['/jobs'].post.operationId).toBe('createJob');
    expect((await secured.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('reports not ready when Redis does not answer', async () => {
    const broken = await buildApp({ config: { ...env.config, redisUrl: 'redis://127.0.0.1:1' } });
    try {
      const res = await broken.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'not ready: redis unavailable' });
    } finally {
      await broken.close();
    }
  });

  it('answers unknown routes in the error shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no route GET /nothing' });
  });

  it('hides internals of a 500', async () => {
    // A database that does not exist is a fault of the deployment, not an outage: 500 (an outage is 503, test/faults/).
    const missing = new URL(env.config.databaseUrl);
    missing.pathname = '/facesets_no_such_database';
    const broken = await buildApp({ config: loadConfig({ ...env.env, DATABASE_URL: missing.toString() }) });
    try {
      const res = await broken.inject({ method: 'GET', url: '/jobs' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error; see the server log' });
    } finally {
      await broken.close();
    }
  });
});
