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
}

export const ESCAPING_SYMLINK = '(symlink outside bucket)';
/** Skip key of an import job's image that lies directly in the bucket root, outside every folder. */
export const ROOT_FILE = '(file in bucket root)';

export function emptyScanStats(): ScanStats {
  return { byExtension: {}, skippedByExtension: {}, errorFiles: [] };
}

export function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
