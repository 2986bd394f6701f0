// Events step: the manifest-update event on Redis right after the write, the job's callback once it is complete.
import type { ManifestEvent } from '@facesets/shared/events/manifest-events';
import type { Logger } from '@facesets/shared/logger';
import type { CallbackPayload } from '@facesets/shared/queues';

export interface EventsDeps {
  /** Redis pub/sub of manifest updates. */
  publish(event: ManifestEvent): Promise<void>;
  /** Queues the (retried, signed) HTTP notification of a job's callbackUrl. */
  enqueueCallback(payload: CallbackPayload): Promise<void>;
  log: Logger;
}

/** Publishes when sets were added or extended; a lost notification must not fail (and re-run) the job. */
export async function publishStep(event: ManifestEvent, deps: Pick<EventsDeps, 'publish' | 'log'>): Promise<void> {
  if (!event.added.length && !event.extended.length) return;
  await deps.publish(event).catch((err: unknown) => deps.log.warn({ err }, 'manifest event could not be published'));
}

/** The body of the job's callback, or null when it has none (no callbackUrl, or the manifest did not change). */
export function callbackBody(event: ManifestEvent, callbackUrl: string | null): string | null {
  if (!callbackUrl || (!event.added.length && !event.extended.length)) return null;
  return JSON.stringify({ event: 'manifest.updated', ...event });
}

/**
 * Queues the callback of a completed job (its body was stored with the completion) and marks it queued; never fails
 * the (already completed) job: what is not marked, the reconciler queues later.
 */
export async function callbackStep(
  jobId: string,
  body: string | null,
  callbackUrl: string | null,
  deps: Pick<EventsDeps, 'enqueueCallback' | 'log'> & { markQueued(jobId: string): Promise<void> },
): Promise<void> {
  if (!callbackUrl || !body) return;
  try {
    await deps.enqueueCallback({ jobId, url: callbackUrl, body });
    await deps.markQueued(jobId);
  } catch (err) {
    deps.log.warn({ err }, 'callback not queued yet; the reconciler will');
  }
}
