// Shape of a job's report (SPEC.md step 8): the scan part for every job, coverage and discovery when they ran.
import type { PoseCoverage } from './pose-coverage';
import type { JobMode } from '../jobs/state';

export interface Distribution {
  median: number | null;
  min: number | null;
}

/** Per-file lists in a report stop after this many entries (a 500k-file bucket's report stays small). */
export const REPORT_LIST_LIMIT = 100;

export interface ScanReport {
  bucket: string;
  files: {
    /** Files kept by extension (lower-case, with dot) → count, duplicates included. */
    byExtension: Record<string, number>;
    found: number;
    /** Non-image files skipped, by extension ('' for none) or kind ('(dangling symlink)', …). */
    skippedByExtension: Record<string, number>;
    /** The first few paths of each of those keys. */
    skippedExamples?: Record<string, string[]>;
    skipped: number;
    /** Extra paths of byte-duplicates (files beyond the first per sha256). */
    aliases: number;
    /** Distinct sources already embedded by this model pack before the job. */
    cached: number;
    /** Distinct sources embedded by this job. */
    embedded: number;
    noface: number;
    errors: number;
  };
  /** The first REPORT_LIST_LIMIT unreadable files by path, with their reasons (all of them: GET /jobs/:id/error-files). */
  errorFiles: { path: string; reason: string }[];
  /** How many files were unreadable in all. */
  errorFilesTotal: number;
  /** Import jobs: images directly in the bucket root (in no folder), skipped. */
  rootFiles?: string[];
  faces: {
    total: number;
    /** Faces per image (ok + noface sources) → number of sources, e.g. {"0": 3, "1": 40, "2": 7}. */
    perImageHistogram: Record<string, number>;
    faceShort: Distribution;
    detScore: Distribution;
    blur: Distribution;
  };
}

export interface CoverageReport {
  /** Existing identities in the output root and how many bucket faces each one covers. */
  identities: { name: string; path: string; members: number; matched: number; extendedWith?: number }[];
  /** Bucket faces routed to an existing identity (left out of discovery). */
  covered: number;
  /** Members listed in existing facesets whose face record could not be found (other model pack, unseen file). */
  unmatchedMembers: number;
}

export interface FacesetOutcome {
  /** faceset_NNN, or null when the cluster exported nothing. */
  name: string | null;
  path: string | null;
  inputFaces: number;
  sources: number;
  exportGateDropped: number;
  outliersDropped: number;
  exported: number;
  /** Faces that passed every gate but whose crop could not be made (source unreadable at export time). */
  exportFailed?: number;
  /** Members left out as near-duplicates of an exported face (the same shot again), and by maxFaces. */
  nearDuplicates?: number;
  maxFacesLeft?: number;
  thin: boolean;
  /** Why nothing was written, when nothing was. */
  skipped?: string;
  /** Contact sheet PNG, relative to the output root (`_reports/<jobId>/<name>.png`). */
  contactSheet?: string;
  /** The exported faces by yaw and pitch side (report/pose-coverage.ts). */
  poseCoverage?: PoseCoverage;
}

export interface DiscoveryReport {
  faces: number;
  rawClusters: number;
  topSizes: number[];
  gateDropped: { minFaceShort: number; minBlur: number; minDetScore: number };
  outliersDropped: number;
  /** Clusters dropped for having fewer than minFaces distinct sources (gates emptied included): raw = kept + this. */
  tooFewSources: number;
  clustersKept: number;
  facesets: FacesetOutcome[];
}

/** Why a photo of a hand-sorted folder gave no face to the folder's identity. */
export type LeftOutReason = 'disagrees' | 'no face' | 'no consensus' | 'unreadable';

export interface ImportedFolderReport {
  /** The top-level folder name as it is on disk. */
  folder: string;
  /** The identity's label: the folder name (Unicode NFC). */
  label: string;
  /** Distinct photos filed in the folder. */
  photos: number;
  /** Where the folder's consensus came from; null when none could be formed. */
  basis: 'single-face photos' | 'all photos' | null;
  /** Faces that agree with the consensus (one per photo at most). */
  taken: number;
  /** Photos that gave no face, with why; `distance` is the nearest face's distance to the consensus. */
  leftOut: { path: string; reason: LeftOutReason; distance?: number; faces: number; detail?: string }[];
  /** What the folder became: a new identity, an extension of an existing one, nothing new, or nothing at all. */
  action: 'created' | 'extended' | 'unchanged' | 'skipped';
  /** The identity (faceset_NNN) and its folder in the output root, when there is one. */
  name: string | null;
  path: string | null;
  /** `extended`/`unchanged`: the consensus's cosine distance to the existing identity's centroid. */
  matchDistance?: number;
  /** Taken faces dropped by the quality and export gates, and as outliers. */
  gateDropped: number;
  outliersDropped: number;
  /** PNGs written by this job (new set, or added to the existing one). */
  exported: number;
  thin: boolean;
  /** Why nothing was written, when nothing was. */
  skipped?: string;
  /** Contact sheet PNG of a new identity, relative to the output root. */
  contactSheet?: string;
}

export interface ImportReport {
  folders: ImportedFolderReport[];
  /** Image files lying directly in the bucket root, in no folder: skipped. */
  skippedFiles: string[];
}

export interface EraOutcome {
  /** faceset_NNN, or null when the era exported nothing. */
  name: string | null;
  path: string | null;
  /** Calendar dates (YYYY-MM-DD) of the era's first and last dated face; null when none is dated. */
  from: string | null;
  to: string | null;
  faces: number;
  exported: number;
  thin: boolean;
  skipped?: string;
  contactSheet?: string;
}

export interface EraSplitReport {
  /** The parent identity (it stays, with every face). */
  parent: string;
  label?: string;
  by: 'date' | 'appearance' | 'auto';
  eras: EraOutcome[];
  /** Faces no era took (undated faces of a date split). */
  unplaced: number;
  /** Why the identity was not split (e.g. a single era), when it was not. */
  skipped?: string;
}

export interface JobReport {
  jobId: string;
  mode: JobMode;
  bucket: string;
  outputRoot: string | null;
  params: Record<string, unknown>;
  modelPack: string;
  startedAt: string | null;
  finishedAt: string | null;
  scan: ScanReport;
  coverage?: CoverageReport;
  discovery?: DiscoveryReport;
  /** Import jobs: what became of each hand-sorted folder. */
  imports?: ImportReport;
  /** Era splits the job made (params.eras). */
  eras?: EraSplitReport[];
}
