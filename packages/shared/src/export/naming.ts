// Names of exported crops: <source-stem>_<sha256 first 8>_<face index>.png, safe on any filesystem.
import { basename, extname } from 'node:path';

/** Longest stem kept, in UTF-16 units: with the suffix the name stays far below the 255-byte limit. */
const MAX_STEM = 80;

/** File name without extension, with characters that Windows, macOS or shells choke on replaced by '_'. */
export function sanitizeStem(path: string): string {
  const base = basename(path);
  const stem = base.slice(0, base.length - extname(base).length) || base;
  const clean = stem
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*\s]+/g, '_')
    .replace(/^[._]+|[._ ]+$/g, '');
  const cut = [...clean].slice(0, MAX_STEM).join('');
  return cut || 'face';
}

export function cropFileName(face: { paths: readonly string[]; sha256: string; faceIndex: number }): string {
  const first = face.paths[0];
  const stem = first === undefined ? 'face' : sanitizeStem(first);
  return `${stem}_${face.sha256.slice(0, 8)}_${face.faceIndex}.png`;
}
