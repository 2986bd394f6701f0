// Jobs API under bad input and a Postgres outage: strict JSON types, 415 for non-JSON, SSRF refusals, 503 + Retry-After.
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../services/api/src/app';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { hostPort, startTcpProxy, type TcpProxy } from './support/tcp-proxy';

let env: TestEnv;
let app: FastifyInstance;
let bucket: string;
let proxy: TcpProxy;
let proxied: FastifyInstance;
let listener: Server;
let hits = 0;

beforeAll(async () => {
  env = await createTestEnv({ CALLBACK_ALLOW_HOSTS: '' });
  bucket = await env.fixtureBucket('photos');
  app = await buildApp({ config: env.config });
  proxy = await startTcpProxy(hostPort(env.config.databaseUrl));
  proxied = await buildApp({ config: { ...env.config, databaseUrl: proxy.urlFor(env.config.databaseUrl) } });
  listener = createServer((s) => {
    hits += 1;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await new Promise((r) => listener?.close(r));
  await proxied?.close();
  await proxy?.close();
  await app?.close();
  await env?.close();
});

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/jobs', payload: payload as Record<string, unknown>, headers });

describe('no type coercion in JSON bodies (finding 9)', () => {
  it.each([
    ['a number sent as a string', { mode: 'scan', params: { minFaces: '2' } }, /^body\/params\/minFaces must be integer$/],
    ['a boolean sent as a string', { mode: 'scan', force: 'true' }, /^body\/force must be boolean$/],
    ['a path sent as a number', { bucket: 123, mode: 'scan' }, /^body\/bucket must be string$/],
  ])('refuses %s with a type error naming the field', async (_, extra, message) => {
    const res = await post({ bucket, ...extra });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('still coerces query strings (?limit=2)', async () => {
    const res = await app.inject({ method: 'GET', url: '/jobs?limit=2' });
    expect(res.statusCode).toBe(200);
  });

  it('answers 415 to a JSON body sent as text/plain', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/jobs',
      payload: JSON.stringify({ bucket, mode: 'scan' }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    expect(res.json().message).toMatch(/application\/json.*text\/plain/);
  });
});

describe('callback URLs to internal addresses (finding 5)', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', /metadata address/],
    ['http://127.0.0.1:6379/', /loopback/],
    ['http://user:pw@[::1]:22/', /credentials/],
    ['http://localhost:6379/', /loopback.*localhost is (127\.0\.0\.1|::1)/],
    ['http://[::ffff:169.254.169.254]/', /metadata address/],
    ['http://10.0.0.1/hook', /private/],
  ])('refuses %s at submit time', async (callbackUrl, reason) => {
    const res = await post({ bucket, mode: 'scan', callbackUrl });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^body\/callbackUrl /);
    expect(res.json().message).toMatch(reason);
  });

  it('sends nothing to a loopback listener', async () => {
    const port = (listener.address() as AddressInfo).port;
    const res = await post({ bucket, mode: 'scan', callbackUrl: `http://127.0.0.1:${port}/hook` });
    expect(res.statusCode).toBe(400);
    expect(hits).toBe(0);
  });
});

describe('Postgres down (finding 6)', () => {
  it('GET /jobs/:id, GET /jobs and POST /jobs answer 503 with Retry-After, then recover', async () => {
    const ok = await proxied.inject({ method: 'POST', url: '/jobs', payload: { bucket, mode: 'scan' } });
    expect(ok.statusCode).toBe(202);
    const id = ok.json().id as string;
    proxy.down();
    try {
      for (const [method, url, payload] of [
        ['GET', `/jobs/${id}`, undefined],
        ['GET', '/jobs', undefined],
        ['POST', '/jobs', { bucket, mode: 'scan' }],
        ['GET', '/readyz', undefined],
      ] as const) {
        const res = await proxied.inject({ method, url, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.json().message).not.toMatch(/internal error|ECONN|stack/);
      }
    } finally {
      proxy.restore();
    }
    const again = await proxied.inject({ method: 'GET', url: `/jobs/${id}` });
    expect(again.statusCode).toBe(200);
  });
});
