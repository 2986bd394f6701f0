// An iTXt chunk put into a PNG before its first IDAT, byte for byte as faceswap's lib/image.py pack_to_itxt does.
import { crc32 } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, then the text. */
export function itxtChunk(keyword: string, text: string): Buffer {
  const data = Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]);
  const type = Buffer.from('iTXt', 'latin1');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(type)) >>> 0);
  return Buffer.concat([head, type, data, crc]);
}

/** The PNG with the chunk inserted right before the first IDAT chunk (walking chunks, not searching bytes). */
export function insertBeforeIdat(png: Buffer, chunk: Buffer): Buffer {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let at = 8;
  while (at + 8 <= png.length) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') return Buffer.concat([png.subarray(0, at), chunk, png.subarray(at)]);
    at += 12 + len;
  }
  throw new Error('PNG has no IDAT chunk');
}
