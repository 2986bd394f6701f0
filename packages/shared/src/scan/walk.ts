// Walks a bucket's real directory tree in a stable order, sorting files into images and skipped entries.
import { opendir, realpath } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { isInside } from '../jobs/paths';
import { ESCAPING_SYMLINK } from '../jobs/scan-stats';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.psd']);

export const UNREADABLE_DIR = '(unreadable directory)';

export type WalkEntry =
  | { kind: 'image'; path: string; ext: string }
  /** `key` is the lower-case extension ('' for none), or ESCAPING_SYMLINK. */
  | { kind: 'skipped'; path: string; key: string };

/**
 * Yields every regular file under `bucket` (a real path). Directories are read whole and sorted so a retried
 * scan sees files in the same order. Symlinks are never followed: one whose target stays inside the bucket
 * is a second name of a file the walk reaches directly (de-duplicated by real path); one that leads out of
 * the bucket is skipped and counted. FIFOs, sockets and devices are skipped (hashing a FIFO would block).
 */
export async function* walkBucket(bucket: string): AsyncGenerator<WalkEntry> {
  const stack = [bucket];
  while (stack.length) {
    const dir = stack.pop() as string;
    const entries: { name: string; type: 'dir' | 'file' | 'link' | 'other' }[] = [];
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      yield { kind: 'skipped', path: dir, key: UNREADABLE_DIR };
      continue;
    }
    for await (const d of handle) {
      const type = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : 'other';
      entries.push({ name: d.name, type });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.type === 'dir') subdirs.push(path);
      else if (e.type === 'file') yield classify(path);
      else if (e.type === 'link') {
        const target = await realpath(path).catch(() => null);
        if (target === null || !isInside(bucket, target)) yield { kind: 'skipped', path, key: ESCAPING_SYMLINK };
      } else yield { kind: 'skipped', path, key: extname(e.name).toLowerCase() };
    }
    // A folder's files first, then its sub-folders depth-first, each in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as string);
  }
}

function classify(path: string): WalkEntry {
  const ext = extname(path).toLowerCase();
  return IMAGE_EXTENSIONS.has(ext) ? { kind: 'image', path, ext } : { kind: 'skipped', path, key: ext };
}

/** The bucket's top-level folder `path` lies in (`a/b/c.jpg` → `a`), or null for a file directly in the bucket. */
export function topLevelFolder(bucket: string, path: string): string | null {
  const parts = relative(bucket, path).split(sep);
  return parts.length > 1 ? (parts[0] as string) : null;
}
