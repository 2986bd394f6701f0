// One APP15 segment put into a JPEG after its last APPn segment, where DeepFaceLab's DFLJPG.dump puts its own.

/** Largest payload one JPEG segment holds: its 16-bit length counts itself (2 bytes). */
export const MAX_SEGMENT_PAYLOAD = 0xffff - 2;

export function insertApp15(jpeg: Buffer, payload: Buffer): Buffer {
  if (payload.length > MAX_SEGMENT_PAYLOAD) throw new Error(`APP15 payload of ${payload.length} bytes exceeds the ${MAX_SEGMENT_PAYLOAD}-byte segment limit`);
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  let at = 2;
  let afterLastApp = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`JPEG: no marker at ${at}`);
    const marker = jpeg[at + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // SOS / EOI: no more header segments
    const len = jpeg.readUInt16BE(at + 2);
    if (marker === 0xef) throw new Error('JPEG already holds an APP15 segment');
    at += 2 + len;
    if ((marker & 0xf0) === 0xe0) afterLastApp = at;
  }
  const head = Buffer.from([0xff, 0xef, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, afterLastApp), head, payload, jpeg.subarray(afterLastApp)]);
}
