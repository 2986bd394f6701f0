// Layout of an output root: the _thin/ folder, temp-name prefix, and clean-up of what an interrupted run left.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ATOMIC_TEMP_PREFIX } from './atomic-write';

export const THIN_DIR = '_thin';
/** Every temp folder or file this service makes inside an output root starts with this. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Removes what an interrupted run left in `dirs` (the root, _thin/, each face set folder): temp face set folders
 * and temp files of atomic writes. Only called under the output-root lock, when no other job can own one.
 */
export async function removeStaleTemps(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of entries) {
      if (!name.startsWith(TEMP_PREFIX) && !name.startsWith(ATOMIC_TEMP_PREFIX)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
