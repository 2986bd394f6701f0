// One job: live progress, then the identities it created and the ones it extended, each with its contact sheet.
import { useEffect, useState } from 'preact/hooks';
import { get, getAll } from '../api';
import type { IdentitySummary, Job, JobReportView } from '../api-types';
import { IdentityCard } from '../components/identity-card';
import { Link } from '../components/link';
import { Progress } from '../components/progress';
import { isTerminal, useLiveJob } from '../live-job';

interface Outcome {
  created: IdentitySummary[];
  extended: { identity: IdentitySummary; added: number }[];
  /** Names in the report that the output root no longer holds as active identities (merged or deleted since). */
  gone: string[];
}

async function outcomeOf(job: Job, signal: AbortSignal): Promise<Outcome | null> {
  if (!job.outputRoot) return null;
  const report = await get<JobReportView>(`/jobs/${encodeURIComponent(job.id)}/report`, signal);
  const identities = await getAll<IdentitySummary>('/identities', { outputRoot: job.outputRoot, limit: 200 }, signal);
  const byName = new Map(identities.map((i) => [i.name, i]));
  const gone: string[] = [];
  const pick = (name: string) => {
    const found = byName.get(name);
    if (!found || found.state !== 'active') gone.push(name);
    return found && found.state === 'active' ? found : null;
  };
  const created = (report.discovery?.facesets ?? [])
    .flatMap((f) => (f.name ? [f.name] : []))
    .map(pick)
    .filter((i): i is IdentitySummary => i !== null);
  const extended = (report.coverage?.identities ?? [])
    .filter((c) => (c.extendedWith ?? 0) > 0)
    .map((c) => ({ identity: pick(c.name), added: c.extendedWith ?? 0 }))
    .filter((e): e is { identity: IdentitySummary; added: number } => e.identity !== null);
  return { created, extended, gone };
}

export function JobPage({ id }: { id: string }) {
  const [loaded, setLoaded] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const job = useLiveJob(loaded);
  const done = job !== null && isTerminal(job);

  useEffect(() => {
    const abort = new AbortController();
    get<Job>(`/jobs/${encodeURIComponent(id)}`, abort.signal)
      .then(setLoaded)
      .catch((err: Error) => setError(err.message));
    return () => abort.abort();
  }, [id]);

  useEffect(() => {
    if (!job || !done || job.state !== 'completed') return;
    const abort = new AbortController();
    outcomeOf(job, abort.signal)
      .then(setOutcome)
      .catch((err: Error) => {
        if (!abort.signal.aborted) setError(err.message);
      });
    return () => abort.abort();
  }, [job?.id, done]);

  if (error) return <p class="error">Could not load job {id}: {error}</p>;
  if (!job) return <p>Loading…</p>;
  return (
    <section>
      <h1>
        Job <span class="muted">{job.mode}</span> <span class={`state state-${job.state}`}>{job.state}</span>
      </h1>
      <dl class="facts">
        <dt>bucket</dt>
        <dd class="path">{job.bucket}</dd>
        <dt>output root</dt>
        <dd class="path">{job.outputRoot ? <Link to={{ page: 'root', outputRoot: job.outputRoot }}>{job.outputRoot}</Link> : '—'}</dd>
        <dt>faces</dt>
        <dd>{job.counters.faces ?? 0}</dd>
      </dl>
      <Progress job={job} />
      {job.error ? <p class="error">{job.error}</p> : null}
      {outcome ? (
        <>
          <h2>New identities ({outcome.created.length})</h2>
          <div class="cards" data-testid="new-identities">
            {outcome.created.length === 0 ? <p class="muted">none</p> : null}
            {outcome.created.map((i) => (
              <IdentityCard key={i.id} identity={i} />
            ))}
          </div>
          <h2>Extended identities ({outcome.extended.length})</h2>
          <div class="cards" data-testid="extended-identities">
            {outcome.extended.length === 0 ? <p class="muted">none</p> : null}
            {outcome.extended.map((e) => (
              <IdentityCard key={e.identity.id} identity={e.identity} note={`+${e.added} from this job`} />
            ))}
          </div>
          {outcome.gone.length ? <p class="muted">Merged or deleted since this job: {outcome.gone.join(', ')}</p> : null}
        </>
      ) : null}
    </section>
  );
}
