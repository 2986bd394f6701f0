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

export type IdentityState = 'active' | 'merged' | 'deleted';

export interface IdentitySummary {
  id: string;
  name: string;
  label: string | null;
  path: string;
  count: number;
  thin: boolean;
  state: IdentityState;
  version: number | string;
  centroidDistanceP90?: number | null;
  outputRoot?: string;
}

export type FaceOrigin = 'discovered' | 'routed' | 'assigned' | 'imported' | string;

export interface IdentityFace {
  id: string;
  png: string | null;
  sources: string[];
  sha256: string;
  box: unknown;
  detScore: number;
  faceShort: number;
  blur: number;
  distance: number | null;
  origin: FaceOrigin;
}

export interface IdentityDetail extends IdentitySummary {
  faces: IdentityFace[];
}

export interface Suggestion {
  id: string;
  name: string;
  label?: string | null;
  distance: number;
  pairs?: { faceId: string; otherFaceId: string; distance: number }[];
}

export interface UncertainMember {
  faceId: string;
  distance: number;
  nearer?: { id: string; name: string; distance: number } | null;
}

export interface Suggestions {
  suggestions: Suggestion[];
  uncertain: UncertainMember[];
}

export interface Decision {
  id: string | number;
  kind: string;
  faceIds?: string[];
  identityIds?: string[];
  at: string;
  by: string;
  undone?: boolean;
}
