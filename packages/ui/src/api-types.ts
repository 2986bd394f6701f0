// Shapes of the API answers the page reads (the issue 7 API table and the jobs API), as the page uses them.

export type JobState = 'queued' | 'scanning' | 'embedding' | 'clustering' | 'exporting' | 'completed' | 'failed' | 'cancelled';

export interface Stage {
  done: number;
  total: number | null;
  state: 'pending' | 'running' | 'done';
}

export interface Job {
  id: string;
  mode: 'discover' | 'scan' | 'extend';
  state: JobState;
  phase: string | null;
  bucket: string;
  outputRoot: string | null;
  counters: Record<string, number>;
  progress: { percent: number; stages: { scan: Stage; embed: Stage; cluster: Stage } };
  error: string | null;
  summary: Record<string, unknown> | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The parts of a job report the page shows (JobReport in packages/shared/src/report/types.ts). */
export interface JobReportView {
  outputRoot: string | null;
  coverage?: { identities: { name: string; path: string; members: number; matched: number; extendedWith?: number }[] };
  discovery?: { facesets: { name: string | null; path: string | null; exported: number; thin: boolean; contactSheet?: string }[] };
}

// The identities API's contracts are defined once, in packages/shared (types only: nothing of it enters the bundle).
export type {
  Decision,
  FaceOrigin,
  IdentityDetail,
  IdentityFace,
  IdentityState,
  IdentitySummary,
  Suggestions,
} from '@facesets/shared/identities/contracts';
