// Streams a file through sha256 so memory stays flat whatever the file's size.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fsPath } from '@facesets/shared/jobs/fs-path';

export interface HashedFile {
  sha256: string;
  size: number;
  mtime: Date;
}

/** `path` in the stored form (fs-path.ts): a non-UTF-8 name is opened by its exact bytes. */
export async function hashFile(path: string): Promise<HashedFile> {
  const file = fsPath(path);
  const info = await stat(file);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), size: info.size, mtime: info.mtime };
}
