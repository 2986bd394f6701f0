// The jobs list, newest first, with live progress for the jobs still running.
import { useEffect, useState } from 'preact/hooks';
import { get, withQuery } from '../api';
import type { Job, Page } from '../api-types';
import { Link } from '../components/link';
import { Progress } from '../components/progress';
import { isTerminal, useLiveJob } from '../live-job';

const when = (iso: string) => new Date(iso).toLocaleString();

// Each stream holds a connection; the others move with the list's 10 s refresh.
const MAX_STREAMS = 3;

function JobRow({ job: initial, follow }: { job: Job; follow: boolean }) {
  const job = useLiveJob(initial, follow) ?? initial;
  return (
    <tr data-testid="job-row" data-job-id={job.id} data-state={job.state}>
      <td>
        <Link to={{ page: 'job', id: job.id }}>{when(job.createdAt)}</Link>
      </td>
      <td>{job.mode}</td>
      <td class={`state state-${job.state}`}>{job.state}</td>
      <td class="progress-cell">
        <Progress job={job} />
      </td>
      <td class="path" title={job.bucket}>
        {job.bucket}
      </td>
      <td class="path">
        {job.outputRoot ? <Link to={{ page: 'root', outputRoot: job.outputRoot }}>{job.outputRoot}</Link> : '—'}
      </td>
      <td class="num">{job.counters.faces ?? 0}</td>
    </tr>
  );
}

export function JobsPage() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    const load = () =>
      get<Page<Job>>(withQuery('/jobs', { limit: 50 }), abort.signal)
        .then((page) => {
          setJobs(page.items);
          setError(null);
        })
        .catch((err: Error) => {
          if (!abort.signal.aborted) setError(err.message);
        });
    void load();
    // New jobs appear without a reload; running ones move through their own event streams.
    const timer = setInterval(load, 10_000);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, []);

  const running = (jobs ?? []).filter((j) => !isTerminal(j)).slice(0, MAX_STREAMS).map((j) => j.id);

  return (
    <section>
      <h1>Jobs</h1>
      {error ? <p class="error">Could not list jobs: {error}</p> : null}
      {jobs === null ? (
        <p>Loading…</p>
      ) : jobs.length === 0 ? (
        <p>No jobs yet. Submit one with POST /jobs or `facesets submit`.</p>
      ) : (
        <table class="jobs">
          <thead>
            <tr>
              <th>submitted</th>
              <th>mode</th>
              <th>state</th>
              <th>progress</th>
              <th>bucket</th>
              <th>output root</th>
              <th>faces</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <JobRow key={job.id} job={job} follow={running.indexOf(job.id) >= 0} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
