// Reads PostgreSQL's binary COPY format from a stream, handing each row's fields over as offsets into one buffer.
import type { Readable } from 'node:stream';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Called once per row: field f is buf[start[f], start[f] + length[f]) (length -1: NULL). The buffer and arrays are
 * reused for the next row, so copy out what must outlive the call.
 */
export type CopyRowHandler = (buf: Buffer, start: Int32Array, length: Int32Array) => void;

/** Parses `COPY … TO STDOUT (FORMAT binary)` output of rows with `fields` columns; resolves with the row count. */
export async function readCopyBinary(stream: Readable, fields: number, onRow: CopyRowHandler): Promise<number> {
  const start = new Int32Array(fields), length = new Int32Array(fields);
  let pending: Buffer = Buffer.alloc(0);
  let headerDone = false, ended = false, rows = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let pos = 0;
    if (!headerDone) {
      if (pending.length < 19) continue;
      if (!pending.subarray(0, 11).equals(SIGNATURE)) throw new Error('COPY binary: bad signature');
      pos = 19 + pending.readInt32BE(15);
      headerDone = true;
    }
    for (;;) {
      if (ended || pending.length - pos < 2) break;
      const count = pending.readInt16BE(pos);
      if (count === -1) {
        ended = true;
        pos += 2;
        break;
      }
      if (count !== fields) throw new Error(`COPY binary: row of ${count} fields, expected ${fields}`);
      // Walk the row's fields; stop (and wait for more bytes) if the row is not complete in the buffer yet.
      let p = pos + 2, complete = true;
      for (let f = 0; f < fields; f++) {
        if (pending.length - p < 4) {
          complete = false;
          break;
        }
        const len = pending.readInt32BE(p);
        p += 4;
        start[f] = p;
        length[f] = len;
        if (len > 0) p += len;
        if (p > pending.length) {
          complete = false;
          break;
        }
      }
      if (!complete) break;
      onRow(pending, start, length);
      rows++;
      pos = p;
    }
    pending = pending.subarray(pos);
  }
  if (!ended) throw new Error('COPY binary: stream ended before the trailer');
  return rows;
}
