// Atomic file replacement: write a temp file in the same folder, fsync it, rename it over the target, fsync the folder.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of the temp files; a leftover one (a crash between write and rename) is recognisable and harmless. */
export const ATOMIC_TEMP_PREFIX = '.tmp-write-';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${ATOMIC_TEMP_PREFIX}${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fh;
  try {
    fh = await open(tmp, 'wx');
  } catch (err) {
    throw Object.assign(new Error(`cannot write ${path}: ${(err as Error).message}`, { cause: err }), { path });
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw Object.assign(new Error(`cannot write ${path}: ${(err as Error).message}`, { cause: err }), { path });
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw Object.assign(new Error(`cannot replace ${path}: ${(err as Error).message}`, { cause: err }), { path });
  }
  await fsyncDir(dir);
}

/** Makes a rename durable; some filesystems refuse to open a directory for sync, which only costs durability. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort, see above
  }
}
