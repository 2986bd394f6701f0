// Walks a bucket's real directory tree in a stable order, sorting files into images and skipped entries.
import { readdir, realpath } from 'node:fs/promises';
import { extname } from 'node:path';
import { fsPath, pathFromBytes } from '../jobs/fs-path';
import { DANGLING_SYMLINK, ESCAPING_SYMLINK, SPECIAL_FILE } from '../jobs/scan-stats';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.psd']);

export const UNREADABLE_DIR = '(unreadable directory)';

export type WalkEntry =
  | { kind: 'image'; path: string; ext: string }
  /** `key` is the lower-case extension ('' for none), or a kind: ESCAPING_SYMLINK, DANGLING_SYMLINK, SPECIAL_FILE. */
  | { kind: 'skipped'; path: string; key: string };

/**
 * Yields every regular file under `bucket` (a real path). Directories are read whole and sorted (by bytes) so a
 * retried scan sees files in the same order. Names are read as bytes, so a name that is not UTF-8 is kept exactly
 * (its path is yielded in the lossless form of fs-path.ts). Symlinks are never followed: one whose target stays
 * inside the bucket is a second name of a file the walk reaches directly (de-duplicated by real path); one that
 * leads out of the bucket, or nowhere, is skipped and counted. FIFOs, sockets and devices are skipped (hashing a
 * FIFO would block).
 */
export async function* walkBucket(bucket: string): AsyncGenerator<WalkEntry> {
  const bucketBytes = Buffer.from(bucket);
  const stack: Buffer[] = [bucketBytes];
  while (stack.length) {
    const dir = stack.pop() as Buffer;
    let listed;
    try {
      listed = await readdir(dir, { encoding: 'buffer', withFileTypes: true });
    } catch {
      yield { kind: 'skipped', path: pathFromBytes(dir), key: UNREADABLE_DIR };
      continue;
    }
    const entries = listed.map((d) => ({
      name: d.name,
      type: d.isDirectory() ? 'dir' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : 'other',
    }));
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    const subdirs: Buffer[] = [];
    for (const e of entries) {
      const raw = Buffer.concat([dir, SLASH, e.name]);
      const path = pathFromBytes(raw);
      if (e.type === 'dir') subdirs.push(raw);
      else if (e.type === 'file') yield classify(path);
      else if (e.type === 'link') {
        const target = await realpath(raw, { encoding: 'buffer' }).catch(() => null);
        if (target === null) yield { kind: 'skipped', path, key: DANGLING_SYMLINK };
        else if (!isInsideBytes(bucketBytes, target)) yield { kind: 'skipped', path, key: ESCAPING_SYMLINK };
      } else yield { kind: 'skipped', path, key: SPECIAL_FILE };
    }
    // A folder's files first, then its sub-folders depth-first, each in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as Buffer);
  }
}

const SLASH = Buffer.from('/');

function isInsideBytes(parent: Buffer, child: Buffer): boolean {
  if (child.equals(parent)) return true;
  const prefix = parent[parent.length - 1] === 0x2f ? parent : Buffer.concat([parent, SLASH]);
  return child.length > prefix.length && child.subarray(0, prefix.length).equals(prefix);
}

function classify(path: string): WalkEntry {
  const ext = extname(path).toLowerCase();
  return IMAGE_EXTENSIONS.has(ext) ? { kind: 'image', path, ext } : { kind: 'skipped', path, key: ext };
}

/** Every image under `dir` as the scan sees it (same extensions, symlinks not followed), sorted by path. */
export async function listImages(dir: string): Promise<string[]> {
  const images: string[] = [];
  for await (const e of walkBucket(dir)) if (e.kind === 'image') images.push(e.path);
  return images.sort();
}

/**
 * The bucket's top-level folder `path` (a stored path) lies in (`a/b/c.jpg` → `a`), or null for a file directly in the
 * bucket (or outside it). A folder whose name is not UTF-8 comes back in the stored form of its name (BYTES_PREFIX + escaped bytes),
 * so two folders never share a key; displayPath() gives its readable form.
 */
export function topLevelFolder(bucket: string, path: string): string | null {
  const raw = fsPath(path);
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
  const prefix = Buffer.from(bucket.endsWith('/') ? bucket : `${bucket}/`);
  if (!bytes.subarray(0, prefix.length).equals(prefix)) return null;
  const rest = bytes.subarray(prefix.length);
  const slash = rest.indexOf(0x2f);
  return slash > 0 ? pathFromBytes(rest.subarray(0, slash)) : null;
}
