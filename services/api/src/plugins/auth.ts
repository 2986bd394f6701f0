// Bearer-token check (API_TOKEN) on every route except health, readiness and the docs.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http-errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without the API token. */
    public?: boolean;
  }
}

/** Who a decision is recorded as: "local" without API_TOKEN, else "token:<first 8 hex of the token's sha256>". */
export function actorOf(token: string | undefined): string {
  return token ? `token:${createHash('sha256').update(token).digest('hex').slice(0, 8)}` : 'local';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export default fp(
  async (app: FastifyInstance, opts: { token: string | undefined }) => {
    const token = opts.token;
    if (!token) return;
    const expected = digest(token);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.public || request.url.startsWith('/docs')) return;
      const header = request.headers.authorization ?? '';
      const match = /^Bearer\s+(.+)$/i.exec(header);
      // Hashing first gives equal lengths, so the comparison time says nothing about the token.
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
        throw new HttpError(401, 'missing or invalid bearer token (Authorization: Bearer <API_TOKEN>)');
      }
    });
  },
  { name: 'auth' },
);
