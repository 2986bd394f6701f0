// /ui: the review page (packages/ui, built at npm install) as static files; the page itself calls the API with the token.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { REPO_ROOT } from '@facesets/shared/config';
import { unavailable } from '../http-errors';

export const UI_DIST_DIR = join(REPO_ROOT, 'packages', 'ui', 'dist');

export interface UiOptions {
  /** The built page [packages/ui/dist]. */
  distDir?: string;
}

const uiRoutes: FastifyPluginAsync<UiOptions> = async (app, opts) => {
  const root = opts.distDir ?? UI_DIST_DIR;
  // The files hold no data (every figure comes from the API, behind the token), so they load without one:
  // that is how the page can ask for the token. Applies to the routes of this plugin only.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), public: true };
  });

  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'the review page is not built: /ui answers 503 (run npm run ui:build)');
    app.get('/ui', { schema: { hide: true } }, async () => {
      throw unavailable('the review page is not built: run `npm run ui:build` (npm install does it)');
    });
    return;
  }

  // Only this origin's own files: the page never loads anything from elsewhere (also on /ui/index.html itself).
  const CSP = "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    // /ui and /ui/ answer index.html below, with the query string the page reads (?outputRoot=…).
    index: false,
    wildcard: true,
    cacheControl: false,
    setHeaders(reply, path) {
      // Bundles carry a content hash in their names; the page that names them is checked on every load.
      const hashed = /[\\/]assets[\\/][^\\/]+-[A-Z0-9]{8}\.(js|css|map)$/.test(path);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-security-policy', CSP);
    },
  });
  for (const url of ['/ui', '/ui/']) {
    app.get(url, { schema: { hide: true } }, (_request, reply) =>
      reply.header('content-security-policy', CSP).sendFile('index.html'),
    );
  }
};

export default uiRoutes;
