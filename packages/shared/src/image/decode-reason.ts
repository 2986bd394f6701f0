// Turns a decoder's message into one line a person can act on: no repeats, no embedded newlines, no bare "Unknown error".
import { crc32 } from 'node:zlib';

/** Longest reason kept in an error record. */
export const MAX_REASON = 300;

/** Lines joined with "; ", each distinct line once (libvips repeats its warnings), cut at MAX_REASON characters. */
export function oneLine(message: string): string {
  const kept: string[] = [];
  for (const part of message.split(/[\r\n]+/)) {
    const line = part.trim().replace(/\s+/g, ' ');
    // libvips prefixes its first line ("Input buffer has corrupt header: <warning>") and repeats the warnings.
    if (line && !kept.some((k) => k.includes(line))) kept.push(line);
  }
  const text = kept.join('; ');
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/** What is wrong with a PNG's chunk structure (a bad CRC, a cut-off chunk), or null when it looks whole. */
export function pngDamage(buf: Uint8Array): string | null {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 8;
  while (at + 8 <= b.length) {
    const length = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > b.length) return `the file is cut off inside its ${type} chunk`;
    const stored = b.readUInt32BE(at + 8 + length);
    if (crc32(b.subarray(at + 4, at + 8 + length)) !== stored) return `its ${type} chunk has a bad CRC (the file is damaged)`;
    if (type === 'IEND') return null;
    at += 12 + length;
  }
  return 'the file ends before its IEND chunk (cut off)';
}

/** The reason of a libvips failure on a file of `format`. */
export function decodeFailureReason(format: string, message: string, buf: Uint8Array): string {
  let text = oneLine(message);
  if (format === 'png' && (!text || /^unknown error$/i.test(text))) text = pngDamage(buf) ?? 'libvips could not decode it and gave no reason';
  else if (!text || /^unknown error$/i.test(text)) text = 'libvips could not decode it and gave no reason';
  return `corrupt or unsupported ${format}: ${text}`;
}
