// An output root's own files are untrusted input: member names, symlinks and folders are checked before any use.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isInside } from '../jobs/paths';

/** Longest member file name accepted (bytes, as most filesystems allow). */
const NAME_MAX = 255;

/**
 * True for a plain base name of a member file: no folder part, no `.`/`..`, no NUL or control characters, not one
 * of our hidden temp names, ending in `ext`. Anything else that a faceset.json lists is never used as a path.
 */
export function isPlainMemberName(name: unknown, ext = '.png'): name is string {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > NAME_MAX) return false;
  if (name.includes('/') || name.includes('\\') || name.startsWith('.')) return false;
  if (/[\u0000-\u001f\u007f]/.test(name)) return false;
  return name.toLowerCase().endsWith(ext);
}

/** A folder or file in an output root that the service will not use, with the reason. */
export class OutputRootRefusedError extends Error {
  constructor(
    readonly outputRoot: string,
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`output root ${outputRoot}: ${entry} ${reason}`);
    this.name = 'OutputRootRefusedError';
  }
}

/** `dir/name` for a plain member name; throws for anything that could point elsewhere. */
export function memberPath(dir: string, name: string): string {
  if (!isPlainMemberName(name)) throw new OutputRootRefusedError(dir, JSON.stringify(name), 'is not a plain file name: refused as a path');
  return join(dir, name);
}

/**
 * Checks that `rel` (a relative path of folders below `root`) holds no symlink and nothing but folders on its
 * way: 'missing' when a part does not exist yet, 'dir' when it is a real folder. A symlink or file is refused.
 */
export async function realDirState(root: string, rel: string): Promise<'missing' | 'dir'> {
  let at = root;
  for (const part of rel.split('/').filter((p) => p !== '' && p !== '.')) {
    if (part === '..') throw new OutputRootRefusedError(root, rel, 'is not a plain folder path');
    at = join(at, part);
    const info = await lstat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (!info) return 'missing';
    if (info.isSymbolicLink()) throw new OutputRootRefusedError(root, rel, 'is a symlink: the service never follows links in an output root');
    if (!info.isDirectory()) throw new OutputRootRefusedError(root, rel, 'is not a folder');
  }
  return 'dir';
}

/**
 * Creates the folders of `rel` below `root` one by one (never `root` itself: a root that is gone stays gone), each
 * checked to be a real folder, not a link.
 */
export async function ensureRealDir(root: string, rel: string): Promise<void> {
  const top = await lstat(root).catch(() => null);
  if (!top?.isDirectory()) throw Object.assign(new Error(`output root ${root} does not exist any more`), { path: root, code: 'ENOENT' });
  let at = root;
  for (const part of rel.split('/').filter((p) => p !== '' && p !== '.')) {
    at = join(at, part);
    await mkdir(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  await realDirState(root, rel);
}

/** Largest file of an output root the service reads whole (faceset.json, manifest.json): 64 MB. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

/** Reads a regular file without following a symlink at its last part (O_NOFOLLOW); a link or non-file is refused. */
export async function readFileNoFollow(path: string, maxBytes = MAX_READ_BYTES): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR', path });
    if (info.size > maxBytes) throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes: not read`), { code: 'EFBIG', path });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Names of the regular files in `dir` (symlinks and folders left out). */
export async function regularFiles(dir: string): Promise<Set<string>> {
  const entries = await readdir(dir, { withFileTypes: true });
  return new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
}

/**
 * The real path of `path` when it lies under one of `roots` (compared by real paths, so a symlink cannot lead out
 * of a bucket); null when it does not, or does not exist. Used for member sources read from faceset.json.
 */
export async function realPathUnder(path: string, roots: readonly string[]): Promise<string | null> {
  if (typeof path !== 'string' || !path.startsWith(sep) || path.includes('\0')) return null;
  const real = await realpath(path).catch(() => null);
  if (!real) return null;
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => null);
    if (realRoot && isInside(realRoot, real)) return real;
  }
  return null;
}
