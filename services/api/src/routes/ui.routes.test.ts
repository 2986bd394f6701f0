// /ui without a database: content types, caching, the token rule and the not-built answer.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import authPlugin from '../plugins/auth';
import errorsPlugin from '../plugins/errors';
import uiRoutes from './ui.routes';

let dir: string;
const apps: FastifyInstance[] = [];

async function appWith(distDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(errorsPlugin);
  await app.register(authPlugin, { token: 'sekret' });
  app.get('/jobs', async () => ({ items: [] }));
  await app.register(uiRoutes, { distDir });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'facesets-ui-'));
  await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
  await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><script type="module" src="/ui/assets/main-ABCDEFGH.js"></script>');
  await writeFile(join(dir, 'dist', 'assets', 'main-ABCDEFGH.js'), 'console.log(1)');
  await mkdir(join(dir, 'empty'));
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('/ui', () => {
  it('serves the page at /ui, /ui/ and /ui?outputRoot=… without the token, checked on every load', async () => {
    const app = await appWith(join(dir, 'dist'));
    for (const url of ['/ui', '/ui/', '/ui?outputRoot=%2Fdata%2Fsets']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.body).toContain('/ui/assets/main-ABCDEFGH.js');
    }
    // The API behind it still asks for the token.
    expect((await app.inject({ url: '/jobs' })).statusCode).toBe(401);
  });

  it('serves hashed bundles as immutable with their content type, and 404s unknown files', async () => {
    const app = await appWith(join(dir, 'dist'));
    const js = await app.inject({ url: '/ui/assets/main-ABCDEFGH.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await app.inject({ url: '/ui/assets/main-ABCDEFGH.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect((await app.inject({ url: '/ui/assets/missing.js' })).statusCode).toBe(404);
  });

  it('answers 503 naming the build command when the page is not built', async () => {
    const app = await appWith(join(dir, 'empty'));
    const res = await app.inject({ url: '/ui' });
    expect(res.statusCode).toBe(503);
    expect(res.json<{ message: string }>().message).toContain('npm run ui:build');
  });
});
