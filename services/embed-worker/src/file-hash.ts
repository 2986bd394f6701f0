// Streams a file through sha256 so memory stays flat whatever the file's size.
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface HashedFile {
  sha256: string;
  size: number;
  mtime: Date;
}

/** Hashes a file; `info` is its stat when the caller already has it (size and mtime are taken from it). */
export async function hashFile(path: string, info?: Stats): Promise<HashedFile> {
  const st = info ?? (await stat(path));
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), size: st.size, mtime: st.mtime };
}
