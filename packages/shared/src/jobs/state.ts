// Job states, the transitions between them, and how far along a job is.

export const JOB_STATES = [
  'queued',
  'scanning',
  'embedding',
  'clustering',
  'exporting',
  'completed',
  'failed',
  'cancelled',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const JOB_MODES = ['discover', 'scan', 'extend', 'import'] as const;
export type JobMode = (typeof JOB_MODES)[number];

export const TERMINAL_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];
export const ACTIVE_STATES: readonly JobState[] = ['queued', 'scanning', 'embedding', 'clustering', 'exporting'];

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The states a job may move into `to` from; failed and cancelled are reachable from every active state. */
export function allowedFrom(to: JobState): readonly JobState[] {
  switch (to) {
    case 'queued':
      return [];
    case 'scanning':
      return ['queued', 'scanning'];
    case 'embedding':
      return ['scanning', 'embedding'];
    case 'clustering':
      // A cluster stage restarted after a crash in export redoes its work from the start (it rolls back first).
      return ['embedding', 'clustering', 'exporting'];
    case 'exporting':
      return ['clustering', 'exporting'];
    case 'completed':
      return ['clustering', 'exporting'];
    case 'failed':
    case 'cancelled':
      return ACTIVE_STATES;
  }
}

/** Public counters of GET /jobs/:id. */
export interface JobCounters {
  /** Image files found (every path, byte-duplicates included). */
  found: number;
  /** Files skipped: not an image extension, or a symlink leading out of the bucket. */
  skipped: number;
  /** Extra paths of byte-duplicates. */
  aliases: number;
  /** Distinct sources already recorded by this model pack before the job. */
  cached: number;
  /** Distinct sources recorded by this job so far. */
  embedded: number;
  /** Distinct sources without a face (cached ones included). */
  noface: number;
  /** Unreadable files (cached error records included). */
  errors: number;
  /** Faces recorded for the bucket's sources (cached ones included). */
  faces: number;
}

export interface StageProgress {
  done: number;
  /** null while the total is not known yet (the walk is still running). */
  total: number | null;
  state: 'pending' | 'running' | 'done';
}

export interface JobProgress {
  percent: number;
  stages: { scan: StageProgress; embed: StageProgress; cluster: StageProgress };
}

/** Share of the whole job each stage stands for in `percent`. */
const WEIGHTS = { scan: 10, embed: 80, cluster: 10 };

export function jobProgress(
  state: JobState,
  scanned: boolean,
  c: { found: number; toEmbed: number; embedded: number },
): JobProgress {
  const finished = state === 'completed';
  const clusterStarted = state === 'clustering' || state === 'exporting' || finished;
  const scan: StageProgress = scanned
    ? { done: c.found, total: c.found, state: 'done' }
    : { done: c.found, total: null, state: state === 'scanning' ? 'running' : 'pending' };
  const embed: StageProgress = {
    done: c.embedded,
    total: scanned ? c.toEmbed : null,
    state: clusterStarted || (scanned && c.embedded >= c.toEmbed) ? 'done' : scanned ? 'running' : 'pending',
  };
  const cluster: StageProgress = {
    done: finished ? 1 : 0,
    total: 1,
    state: finished ? 'done' : clusterStarted ? 'running' : 'pending',
  };
  let percent = 0;
  if (scanned) percent += WEIGHTS.scan;
  if (scanned) percent += c.toEmbed === 0 ? WEIGHTS.embed : (WEIGHTS.embed * Math.min(c.embedded, c.toEmbed)) / c.toEmbed;
  if (finished) percent = 100;
  return { percent: Math.round(percent * 10) / 10, stages: { scan, embed, cluster } };
}
