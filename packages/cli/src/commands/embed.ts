// `facesets embed <file|dir>... [--files-from FILE|-]`: runs the face engine and streams one JSON line per file.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
// Deep imports, not the package index: the index loads the database, queue and HTTP code too (~1.5 s).
import { loadConfig } from '@facesets/shared/config';
import { EnginePool, enginePoolOptions } from '@facesets/shared/engine/pool';
import type { Face, FileResult } from '@facesets/shared/engine/types';
import { UsageError, type Command } from '../cli';
import { expandInputs, readLines, type EmbedInput } from '../embed-inputs';
import { mapOrdered } from '../ordered-map';

interface EmbedArgs {
  inputs: string[];
  /** A file of paths, one a line; '-' for stdin. */
  filesFrom: string | undefined;
  detThreshold: number | undefined;
}

export function parseEmbedArgs(args: string[]): EmbedArgs {
  const inputs: string[] = [];
  let detThreshold: number | undefined;
  let filesFrom: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      inputs.push(...args.slice(i + 1));
      break;
    }
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--det-threshold') {
      const raw = inline ?? args[++i];
      const n = Number(raw);
      if (raw === undefined || raw === '' || !Number.isFinite(n) || n < 0 || n > 1) {
        throw new UsageError(`--det-threshold must be a number from 0 to 1, got "${raw ?? ''}"`);
      }
      detThreshold = n;
    } else if (flag === '--files-from') {
      const raw = inline ?? args[++i];
      if (raw === undefined || raw === '') throw new UsageError('--files-from needs a file (or - for stdin)');
      if (filesFrom !== undefined) throw new UsageError('--files-from may be given once');
      filesFrom = raw;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option "${arg}"`);
    } else {
      inputs.push(arg);
    }
  }
  if (inputs.length === 0 && filesFrom === undefined) throw new UsageError('no files given');
  return { inputs, filesFrom, detThreshold };
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function faceJson(f: Face): Record<string, unknown> {
  return {
    box: f.box.map((v) => round(v, 2)),
    kps: f.kps.map(([x, y]) => [round(x, 2), round(y, 2)]),
    detScore: round(f.detScore, 4),
    faceShort: round(f.faceShort, 2),
    blur: round(f.blur, 2),
    ...(f.pose ? { pose: { yaw: round(f.pose.yaw, 1), pitch: round(f.pose.pitch, 1), roll: round(f.pose.roll, 1) } } : {}),
    // 6 significant digits: distances stay exact to ~1e-6, lines stay ~5 kB per face.
    embedding: Array.from(f.embedding, (v) => Number(v.toPrecision(6))),
  };
}

export function resultLine(r: FileResult): string {
  if (!r.ok) return JSON.stringify({ path: r.path, error: r.error });
  return JSON.stringify({ path: r.path, sha256: r.sha256, width: r.width, height: r.height, faces: r.faces.map(faceJson) });
}

/** The --files-from stream, opened before the engine starts so a wrong name is a usage error. */
async function openList(filesFrom: string | undefined): Promise<Readable | undefined> {
  if (filesFrom === undefined) return undefined;
  if (filesFrom === '-') return process.stdin;
  try {
    return (await open(filesFrom)).createReadStream();
  } catch (err) {
    throw new UsageError(`--files-from: cannot read ${filesFrom}: ${(err as Error).message}`);
  }
}

async function* allInputs(args: string[], list: Readable | undefined): AsyncGenerator<string> {
  yield* args;
  if (list) yield* readLines(list);
}

/** Takes up to `n` items off an iterator without losing the rest. */
async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const head: T[] = [];
  while (head.length < n) {
    const next = await it.next();
    if (next.done) break;
    head.push(next.value);
  }
  return head;
}

async function* chain<T>(head: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

export const command: Command = {
  summary: 'detect, align and embed faces; one JSON line per file (no database)',
  usage: 'facesets embed <file|dir>... [--files-from FILE|-] [--det-threshold X]',
  async run(args) {
    const { inputs, filesFrom, detThreshold } = parseEmbedArgs(args);
    const list = await openList(filesFrom);
    let config;
    try {
      config = loadConfig();
    } catch (err) {
      process.stderr.write(`facesets embed: cannot start the face engine: ${(err as Error).message}\n`);
      return 1;
    }
    const files = expandInputs(allInputs(inputs, list));
    // Never more workers than files: a look ahead of one file per worker decides how many to start.
    const head = await take(files, config.engineWorkers);
    if (head.length === 0) {
      process.stderr.write('facesets embed: no image files found\n');
      return 0;
    }
    const workers = head.length;
    let pool: EnginePool;
    try {
      pool = await EnginePool.create({ ...enginePoolOptions(config), workers });
    } catch (err) {
      // Start-up problems (missing/altered model, no CUDA) are the operator's to fix: one clear line.
      process.stderr.write(`facesets embed: cannot start the face engine: ${(err as Error).message}\n`);
      return 1;
    }
    let stdoutError: Error | undefined;
    const onStdoutError = (err: Error): void => void (stdoutError = err);
    process.stdout.on('error', onStdoutError);
    try {
      const opts = detThreshold === undefined ? {} : { detThreshold };
      const embed = async (input: EmbedInput): Promise<FileResult> =>
        input.error !== undefined ? { ok: false, path: input.path, error: input.error } : { ...(await pool.process(resolve(input.path), opts)), path: input.path };
      // 8 files per worker in flight (queued or running, or done and waiting for their turn to print) keeps
      // every worker busy behind a slow file while memory stays flat for any number of files.
      for await (const result of mapOrdered(chain(head, files), workers * 8, embed)) {
        if (!process.stdout.write(`${resultLine(result)}\n`)) await once(process.stdout, 'drain').catch(() => undefined);
        if (stdoutError) break;
      }
    } finally {
      process.stdout.off('error', onStdoutError);
      await pool.close();
    }
    if (stdoutError) {
      process.stderr.write(`facesets embed: stopped, stdout closed: ${stdoutError.message}\n`);
      return 1;
    }
    return 0;
  },
};
