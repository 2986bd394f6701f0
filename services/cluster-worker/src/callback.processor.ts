// Callback stage: POSTs one manifest-update notification to a job's callbackUrl; the queue retries on failure.
import { UnrecoverableError } from 'bullmq';
import { CallbackUrlError } from '@facesets/shared/events/callback-url';
import type { Logger } from '@facesets/shared/logger';
import type { CallbackPayload } from '@facesets/shared/queues';
import { deliverCallback, type DeliverOptions } from '@facesets/shared/events/callbacks';

export interface CallbackDeps {
  /** CALLBACK_SECRET: bodies are signed (X-Facesets-Signature) only when it is set. */
  secret: string | undefined;
  log: Logger;
  deliver?: DeliverOptions;
}

/**
 * Throws on a network error, a timeout or a non-2xx answer, so BullMQ retries with backoff; a URL that now points at
 * an internal address fails for good (UnrecoverableError) and nothing is sent.
 */
export async function processCallback(payload: CallbackPayload, deps: CallbackDeps): Promise<{ status: number }> {
  let result: { status: number };
  try {
    result = await deliverCallback(payload.url, payload.body, deps.secret, deps.deliver);
  } catch (err) {
    if (err instanceof CallbackUrlError) {
      deps.log.warn({ jobId: payload.jobId, url: payload.url, reason: err.message }, 'callback refused');
      throw new UnrecoverableError(`callback refused: ${err.message}`);
    }
    throw err;
  }
  deps.log.info({ jobId: payload.jobId, url: payload.url, status: result.status, signed: Boolean(deps.secret) }, 'callback delivered');
  return result;
}
