// Shape of a job's report (SPEC.md step 8): the scan part for every job, coverage and discovery when they ran.

export interface Distribution {
  median: number | null;
  min: number | null;
}

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
  /** Every unreadable file with its reason. */
  errorFiles: { path: string; reason: string }[];
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
  thin: boolean;
  /** Why nothing was written, when nothing was. */
  skipped?: string;
  /** Contact sheet PNG, relative to the output root (`_reports/<jobId>/<name>.png`). */
  contactSheet?: string;
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

export interface JobReport {
  jobId: string;
  mode: 'discover' | 'scan' | 'extend';
  bucket: string;
  outputRoot: string | null;
  params: Record<string, unknown>;
  modelPack: string;
  startedAt: string | null;
  finishedAt: string | null;
  scan: ScanReport;
  coverage?: CoverageReport;
  discovery?: DiscoveryReport;
}
