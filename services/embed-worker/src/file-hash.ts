// Streams a file through sha256 so memory stays flat whatever the file's size.
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fsPath } from '@facesets/shared/jobs/fs-path';

export interface HashedFile {
  sha256: string;
  size: number;
  mtime: Date;
}

/**
 * Hashes a file; `path` is in the stored form (fs-path.ts): a non-UTF-8 name is opened by its exact bytes. `info` is
 * its stat when the caller already has it (size and mtime are taken from it).
 */
export async function hashFile(path: string, info?: Stats): Promise<HashedFile> {
  const file = fsPath(path);
  const st = info ?? (await stat(file));
  const hash = createHash('sha256');
  // A read buffer no larger than the file: a million tiny files must not each allocate a megabyte.
  const highWaterMark = Math.max(1024, Math.min(1 << 20, st.size + 1));
  for await (const chunk of createReadStream(file, { highWaterMark })) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), size: st.size, mtime: st.mtime };
}
