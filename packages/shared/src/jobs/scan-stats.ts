// What the scan stage learns that the database does not hold elsewhere: counts by extension, unreadable paths.

export interface ScanStats {
  /** Image files by lower-case extension (with dot), byte-duplicates included. */
  byExtension: Record<string, number>;
  /** Skipped files by lower-case extension ('' for none; '(symlink outside bucket)' for escaping links). */
  skippedByExtension: Record<string, number>;
  /** Image files that could not be read to hash them. */
  errorFiles: { path: string; reason: string }[];
  /** Import jobs: image files lying directly in the bucket root (in no person's folder), skipped. */
  rootFiles?: string[];
  /** The first SKIPPED_EXAMPLES paths of each skipped kind (same keys as skippedByExtension); absent in old rows. */
  skippedExamples?: Record<string, string[]>;
}

export const ESCAPING_SYMLINK = '(symlink outside bucket)';
/** Skip key of an import job's image that lies directly in the bucket root, outside every folder. */
export const ROOT_FILE = '(file in bucket root)';
/** A symlink whose target does not exist. */
export const DANGLING_SYMLINK = '(dangling symlink)';
/** A FIFO, socket or device, whatever its name (hashing a FIFO would block). */
export const SPECIAL_FILE = '(fifo, socket or device)';
/** Skipped paths named per kind in the report; the rest are counted. */
export const SKIPPED_EXAMPLES = 10;

/** Counts a skipped entry under `key` and keeps its path while fewer than SKIPPED_EXAMPLES of that kind are kept. */
export function recordSkipped(stats: ScanStats, key: string, path: string): void {
  countInto(stats.skippedByExtension, key);
  const examples = (stats.skippedExamples ??= {});
  const list = (examples[key] ??= []);
  if (list.length < SKIPPED_EXAMPLES) list.push(path);
}

export function emptyScanStats(): ScanStats {
  return { byExtension: {}, skippedByExtension: {}, errorFiles: [], skippedExamples: {} };
}

export function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
