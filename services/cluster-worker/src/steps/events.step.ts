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

/** Queues the callback of a completed job that changed the manifest; never fails the (already completed) job. */
export async function callbackStep(event: ManifestEvent, callbackUrl: string | null, deps: Pick<EventsDeps, 'enqueueCallback' | 'log'>): Promise<void> {
  if (!callbackUrl || (!event.added.length && !event.extended.length)) return;
  await deps
    .enqueueCallback({ jobId: event.jobId, url: callbackUrl, body: JSON.stringify({ event: 'manifest.updated', ...event }) })
    .catch((err: unknown) => deps.log.warn({ err }, 'post-completion step failed'));
}
