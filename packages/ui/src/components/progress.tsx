// A job's progress: the bar, the phase and the stage counts.
import type { Job } from '../api-types';

export function Progress({ job }: { job: Job }) {
  const pct = Math.round(job.progress.percent);
  const stages = job.progress.stages;
  const stage = (name: string, s: Job['progress']['stages']['scan']) =>
    `${name} ${s.done}${s.total === null ? '' : `/${s.total}`}`;
  return (
    <div class="progress" title={`${stage('scan', stages.scan)} · ${stage('embed', stages.embed)} · ${stage('cluster', stages.cluster)}`}>
      <div class="bar">
        <div class={`fill state-${job.state}`} style={{ width: `${pct}%` }} />
      </div>
      <span class="pct" data-testid="job-percent">
        {pct}%
      </span>
      <span class="phase">{job.phase ?? job.state}</span>
    </div>
  );
}
