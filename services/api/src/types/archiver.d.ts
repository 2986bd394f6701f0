// The part of archiver 7 the archive route uses (the package ships no types, and @types/archiver is not needed for it).
declare module 'archiver' {
  import type { Readable, Transform } from 'node:stream';
  interface ZipOptions {
    zlib?: { level?: number };
    store?: boolean;
  }
  interface EntryData {
    name: string;
    store?: boolean;
  }
  interface Archiver extends Transform {
    append(source: Readable | Buffer | string, data: EntryData): this;
    finalize(): Promise<void>;
    abort(): this;
    pointer(): number;
  }
  function archiver(format: 'zip', options?: ZipOptions): Archiver;
  export default archiver;
}
