// Bearer-token check (API_TOKEN) on every route except health, readiness and the docs; the queue board also takes
// the token as a Basic-auth password, the one credential a browser sends with every page, asset and XHR by itself.
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

/** Pages a browser opens directly (bull-board's own UI cannot add a bearer header). */
const BASIC_AUTH_PREFIX = '/admin/queues';

/** The credential of an Authorization header: a bearer token, or (browser pages only) a Basic password. */
function credentialOf(header: string, basic: boolean): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1];
  const encoded = basic ? /^Basic\s+(.+)$/i.exec(header)?.[1] : undefined;
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  // Any user name: the password is the token.
  return decoded.slice(decoded.indexOf(':') + 1);
}

export default fp(
  async (app: FastifyInstance, opts: { token: string | undefined }) => {
    const token = opts.token;
    if (!token) return;
    const expected = digest(token);
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config?.public || request.url.startsWith('/docs')) return;
      const basic = request.url.startsWith(BASIC_AUTH_PREFIX);
      const credential = credentialOf(request.headers.authorization ?? '', basic);
      // Hashing first gives equal lengths, so the comparison time says nothing about the token.
      if (!credential || !timingSafeEqual(digest(credential), expected)) {
        // The browser asks for a password and sends it with every later request of the board.
        if (basic) reply.header('www-authenticate', 'Basic realm="facesets queues (password: API_TOKEN)", charset="UTF-8"');
        throw new HttpError(401, 'missing or invalid bearer token (Authorization: Bearer <API_TOKEN>)');
      }
    });
  },
  { name: 'auth' },
);
