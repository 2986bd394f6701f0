// One error handler and one not-found handler: every error leaves as {statusCode, error, message}; 5xx hide internals.
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { OutputRootBusyError } from '@facesets/shared/db/locks.repository';
import { OutputRootRefusedError } from '@facesets/shared/export/root-guard';
import {
  FaceNotFoundError,
  IdentityConflictError,
  IdentityNotFoundError,
  IdentityRequestError,
  OutputRootUnavailableError,
  OutputRootWriteError,
} from '@facesets/shared/identities/identity-service';
import { FaceNotInIdentityError } from '@facesets/shared/identities/records';
import { isInfrastructureError } from '@facesets/shared/infra-errors';
import { HttpError, RETRY_AFTER_SECONDS } from '../http-errors';

/** Domain errors of the identities service and the status each one answers with. */
function domainStatus(err: Error): number | null {
  if (err instanceof IdentityNotFoundError || err instanceof FaceNotFoundError) return 404;
  // The root is busy (a job or another decision holds it), gone, or holds what the service refuses: look again.
  if (err instanceof IdentityConflictError || err instanceof OutputRootBusyError || err instanceof OutputRootUnavailableError || err instanceof OutputRootRefusedError) return 409;
  if (err instanceof IdentityRequestError || err instanceof FaceNotInIdentityError) return 400;
  return null;
}

/** SQLSTATEs of values Postgres cannot take: untranslatable character, bad encoding, bad text form, out of range. */
const PG_BAD_INPUT = new Set(['22P05', '22021', '22P02', '22003', '22008', '22007']);

function body(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      if (err.validation) return reply.status(400).send(body(400, err.message));
      const domain = domainStatus(err);
      if (domain) {
        if (err instanceof OutputRootBusyError) reply.header('retry-after', '1');
        return reply.status(domain).send(body(domain, err.message));
      }
      // Recorded, not (all) written: the message names the file and says what happens next; it hides nothing internal.
      if (err instanceof OutputRootWriteError) {
        request.log.error({ err }, 'decision recorded, folders not written');
        return reply.status(500).send(body(500, err.message));
      }
      if (err instanceof HttpError) {
        if (err.statusCode >= 500) request.log.warn({ err }, 'request failed');
        if (err.statusCode === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        return reply.status(err.statusCode).send(body(err.statusCode, err.message));
      }
      const status = err.statusCode ?? 500;
      if (status === 415) {
        return reply.status(415).send(body(415, `body must be sent as application/json (got ${request.headers['content-type'] ?? 'no content-type'})`));
      }
      if (status >= 400 && status < 500) return reply.status(status).send(body(status, err.message));
      // Text Postgres cannot hold or a value out of a column's range reached a query: the request's fault, not ours.
      const sqlState = (err as { code?: unknown }).code;
      if (typeof sqlState === 'string' && PG_BAD_INPUT.has(sqlState)) {
        request.log.warn({ err: err.message, sqlState }, 'request held a value Postgres refused');
        return reply.status(400).send(body(400, 'the request holds a value that cannot be stored (NUL, a lone surrogate, or a number out of range)'));
      }
      // Postgres (or Redis) unreachable: the client can retry, as /readyz says; never a 500.
      if (isInfrastructureError(err)) {
        request.log.warn({ err: err.message }, 'backing store unavailable');
        return reply
          .status(503)
          .header('retry-after', String(RETRY_AFTER_SECONDS))
          .send(body(503, 'the job store (Postgres) or queue (Redis) is unavailable; retry later'));
      }
      request.log.error({ err }, 'unhandled error');
      return reply.status(500).send(body(500, 'internal error; see the server log'));
    });
    // No answer of this API is ever sniffed into another type (a thumbnail as HTML, JSON as script).
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send(body(404, `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'errors' },
);

/** Ajv errors → "body/params/detThreshold must be <= 1", naming the field even for required / extra properties. */
export function formatSchemaErrors(
  errors: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[],
  dataVar: string,
): Error {
  const e = errors[0];
  if (!e) return new Error(`${dataVar} is not valid`);
  const path = `${dataVar}${e.instancePath}`;
  if (e.keyword === 'required') return new Error(`${path}/${String(e.params.missingProperty)} is required`);
  if (e.keyword === 'additionalProperties') {
    return new Error(`${path}/${String(e.params.additionalProperty)} is not a known property`);
  }
  if (e.keyword === 'enum') {
    return new Error(`${path} must be one of ${(e.params.allowedValues as string[]).join(', ')}`);
  }
  return new Error(`${path} ${e.message ?? 'is not valid'}`);
}
