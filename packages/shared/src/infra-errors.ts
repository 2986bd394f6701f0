// Tells infrastructure failures (Postgres or Redis unreachable, timeouts) from errors of the work itself.

/** Node socket errors that mean "the other side is not there (now)". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Postgres SQLSTATEs of a server that is unreachable, restarting or full (class 08, 57P0x, 53300). */
const PG_UNAVAILABLE = /^(08...|57P0[1-4]|53300)$/;

/** Messages of pg and ioredis that carry no code. */
const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /Reached the max retries per request limit/i,
  /Query read timeout/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/** True when `err` (or an error it wraps) says Postgres or Redis could not be reached, rather than a bad input. */
export function isInfrastructureError(err: unknown, depth = 0): boolean {
  if (depth > 5 || err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown; name?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PG_UNAVAILABLE.test(e.code))) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isInfrastructureError(x, depth + 1))) return true;
  return e.cause !== undefined && isInfrastructureError(e.cause, depth + 1);
}

/**
 * Delay before the `attempt`-th retry (1-based) after an infrastructure error: 1 s, 2 s, 4 s … capped at `maxMs`,
 * so a long outage costs a few requests a minute, not a retry storm.
 */
export function infraBackoffMs(attempt: number, maxMs = 30_000): number {
  return Math.min(maxMs, 1_000 * 2 ** Math.max(0, attempt - 1));
}
