// Errors a route throws on purpose; the error handler turns them into {statusCode, error, message}.

/** Retry-After of every 503 (readiness, Postgres or Redis down). */
export const RETRY_AFTER_SECONDS = 5;
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);
export const unavailable = (message: string) => new HttpError(503, message);
