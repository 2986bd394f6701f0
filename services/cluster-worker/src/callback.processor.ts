// Callback stage: POSTs one manifest-update notification to a job's callbackUrl; the queue retries on failure.
import type { Logger } from '@facesets/shared/logger';
import type { CallbackPayload } from '@facesets/shared/queues';
import { deliverCallback, type DeliverOptions } from '@facesets/shared/events/callbacks';

export interface CallbackDeps {
  /** CALLBACK_SECRET: bodies are signed (X-Facesets-Signature) only when it is set. */
  secret: string | undefined;
  log: Logger;
  deliver?: DeliverOptions;
}

/** Throws on a network error, a timeout or a non-2xx answer, so BullMQ retries with backoff. */
export async function processCallback(payload: CallbackPayload, deps: CallbackDeps): Promise<{ status: number }> {
  const result = await deliverCallback(payload.url, payload.body, deps.secret, deps.deliver);
  deps.log.info({ jobId: payload.jobId, url: payload.url, status: result.status, signed: Boolean(deps.secret) }, 'callback delivered');
  return result;
}
