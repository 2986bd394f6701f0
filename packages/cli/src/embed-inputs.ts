// What `facesets embed` reads: its arguments and --files-from lines, directories expanded by the scan's walk.
import { realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { UNREADABLE_DIR, walkBucket } from '@facesets/shared/scan/walk';

/** A file to embed, named as the user named it (or under the directory they named); or a reason it cannot be. */
export type EmbedInput = { path: string; error?: undefined } | { path: string; error: string };

/**
 * Yields each input that is not a directory as it is (a missing file becomes the engine's read error), and
 * the images under each directory in the scan's order and with its extension filter; symlinks inside are not
 * followed, as in a scan. Lazy: a directory of 100,000 photos is walked as the embedding goes.
 */
export async function* expandInputs(inputs: AsyncIterable<string> | Iterable<string>): AsyncGenerator<EmbedInput> {
  for await (const input of inputs) {
    const st = await stat(input).catch(() => null);
    if (!st?.isDirectory()) {
      yield { path: input };
      continue;
    }
    const real = await realpath(input);
    for await (const entry of walkBucket(real)) {
      const path = join(input, relative(real, entry.path));
      if (entry.kind === 'image') yield { path };
      else if (entry.key === UNREADABLE_DIR) yield { path, error: 'read: the directory cannot be opened' };
    }
  }
}

/** Non-empty lines of a text stream (LF or CRLF), read only as fast as they are consumed. */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  stream.setEncoding('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    yield* lines.map(stripCr).filter((line) => line !== '');
  }
  if (stripCr(rest) !== '') yield stripCr(rest);
}

const stripCr = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
