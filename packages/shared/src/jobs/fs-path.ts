// File paths are bytes on Linux: a lossless text form for paths that are not UTF-8, a readable escaped form to show.

/**
 * Prefix of the lossless form of a non-UTF-8 path. Absolute paths start with "/", so a stored path starting with
 * this is never a real UTF-8 path: the two forms cannot be confused.
 */
export const BYTES_PREFIX = 'bytes:';

/** Backslash-escapes a path's bytes: valid UTF-8 runs as text, `\` as `\\`, every other byte as `\xHH`. */
export function escapeBytes(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = utf8Length(b, i);
    if (n === 0) {
      out += `\\x${(b[i] as number).toString(16).padStart(2, '0')}`;
      i += 1;
    } else {
      const ch = b.toString('utf8', i, i + n);
      out += ch === '\\' ? '\\\\' : ch;
      i += n;
    }
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1] as number;
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
  return n;
}

function unescapeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && text[i + 1] === '\\') {
      run += '\\';
      i += 1;
    } else if (ch === '\\' && text[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]));
      run = '';
      i += 3;
    } else run += ch;
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);

/** The text a path is stored and carried as: itself when it is UTF-8, else BYTES_PREFIX + its escaped bytes. */
export function pathFromBytes(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : `${BYTES_PREFIX}${escapeBytes(bytes)}`;
}

/** What to hand to fs calls for a stored path: the string itself, or the exact bytes of a non-UTF-8 one. */
export function fsPath(stored: string): string | Buffer {
  return stored.startsWith(BYTES_PREFIX) ? unescapeBytes(stored.slice(BYTES_PREFIX.length)) : stored;
}

/** The stored path as a person reads it: non-UTF-8 bytes shown as \xHH (`/b/bad\xffutf8.png`). */
export function displayPath(stored: string): string {
  return stored.startsWith(BYTES_PREFIX) ? stored.slice(BYTES_PREFIX.length) : stored;
}
