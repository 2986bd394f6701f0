// A small pickle writer (protocol 2) for plain values: Python 3's pickle.loads reads it without numpy or any class.
import { PyFloat, PyTuple, type PyValue } from './py-value';

const OP = {
  PROTO: 0x80, STOP: 0x2e, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89, BININT: 0x4a, LONG1: 0x8a, BINFLOAT: 0x47,
  BINUNICODE: 0x58, EMPTY_LIST: 0x5d, EMPTY_DICT: 0x7d, EMPTY_TUPLE: 0x29, MARK: 0x28, APPENDS: 0x65, SETITEMS: 0x75, TUPLE: 0x74,
} as const;

/** Items per APPENDS/SETITEMS batch, as CPython's pickler does. */
const BATCH = 1000;

export function pickleDumps(value: PyValue): Buffer {
  const out: Buffer[] = [Buffer.from([OP.PROTO, 2])];
  const byte = (b: number): void => {
    out.push(Buffer.from([b]));
  };
  const write = (v: PyValue): void => {
    if (v === null) return byte(OP.NONE);
    if (v === true) return byte(OP.NEWTRUE);
    if (v === false) return byte(OP.NEWFALSE);
    if (typeof v === 'number') return Number.isInteger(v) ? int(v) : float(v);
    if (v instanceof PyFloat) return float(v.value);
    if (typeof v === 'string') {
      const s = Buffer.from(v, 'utf8');
      const head = Buffer.alloc(5);
      head[0] = OP.BINUNICODE;
      head.writeUInt32LE(s.length, 1);
      out.push(head, s);
      return;
    }
    if (v instanceof PyTuple) {
      if (!v.items.length) return byte(OP.EMPTY_TUPLE);
      byte(OP.MARK);
      v.items.forEach(write);
      return byte(OP.TUPLE);
    }
    if (Array.isArray(v)) {
      byte(OP.EMPTY_LIST);
      for (let i = 0; i < v.length; i += BATCH) {
        byte(OP.MARK);
        (v as readonly PyValue[]).slice(i, i + BATCH).forEach(write);
        byte(OP.APPENDS);
      }
      return;
    }
    const obj = v as { readonly [key: string]: PyValue };
    const keys = Object.keys(obj);
    byte(OP.EMPTY_DICT);
    for (let i = 0; i < keys.length; i += BATCH) {
      byte(OP.MARK);
      for (const k of keys.slice(i, i + BATCH)) {
        write(k);
        write(obj[k]!);
      }
      byte(OP.SETITEMS);
    }
  };
  const float = (f: number) => {
    if (!Number.isFinite(f)) throw new Error(`pickle: not a finite number: ${f}`);
    const b = Buffer.alloc(9);
    b[0] = OP.BINFLOAT;
    b.writeDoubleBE(f, 1);
    out.push(b);
  };
  const int = (n: number) => {
    if (n >= -0x80000000 && n <= 0x7fffffff) {
      const b = Buffer.alloc(5);
      b[0] = OP.BININT;
      b.writeInt32LE(n, 1);
      out.push(b);
      return;
    }
    // LONG1: little-endian two's complement, as short as the value allows.
    let x = BigInt(n);
    const bytes: number[] = [];
    for (;;) {
      const lo = Number(x & 0xffn);
      bytes.push(lo);
      x >>= 8n;
      if ((x === 0n && (lo & 0x80) === 0) || (x === -1n && (lo & 0x80) !== 0)) break;
    }
    out.push(Buffer.from([OP.LONG1, bytes.length, ...bytes]));
  };
  write(value);
  byte(OP.STOP);
  return Buffer.concat(out);
}
