// Keeps a job up to date from its event stream (GET /jobs/:id/events) while it runs.
import { useEffect, useState } from 'preact/hooks';
import { authHeaders } from './api';
import type { Job } from './api-types';
import { followSse } from './sse';

export const isTerminal = (job: Job) => job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled';

/** Follows the job's stream and calls `onUpdate` with each state; the stream ends itself at a terminal state. */
export function followJob(id: string, onUpdate: (job: Job) => void, signal: AbortSignal): Promise<void> {
  return followSse(
    `/jobs/${encodeURIComponent(id)}/events`,
    authHeaders(),
    (e) => {
      if (e.event === 'state') onUpdate(JSON.parse(e.data) as Job);
    },
    signal,
  );
}

/** `job` kept live from its stream while it is not terminal (and `follow` holds). */
export function useLiveJob(job: Job | null, follow = true): Job | null {
  const [live, setLive] = useState(job);
  useEffect(() => setLive(job), [job]);
  const id = follow && job && !isTerminal(job) ? job.id : null;
  useEffect(() => {
    if (!id) return;
    const abort = new AbortController();
    followJob(id, setLive, abort.signal).catch(() => undefined);
    return () => abort.abort();
  }, [id]);
  return live;
}
