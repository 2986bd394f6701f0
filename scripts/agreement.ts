// Embeds a folder of photos with two engine set-ups (provider and batch size) and prints each face's cosine distance.
// npm run agreement -- [--a cpu:1] [--b <EXECUTION_PROVIDER>:<its default batch>] [--dir folder] [--max 0.01]
// Exit 0 when every face is found by both and no distance reaches --max; 1 otherwise. Each side runs in its own
// process: the CPU and CUDA builds of ONNX Runtime cannot share one (see engine/runtime.ts).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ENGINE_DEFAULTS,
  FaceEngine,
  loadConfig,
  loadModelPack,
  REPO_ROOT,
  type ExecutionProvider,
  type Face,
  type FileResult,
} from '@facesets/shared';
import { iou } from '@facesets/shared/engine/nms';
import { listImages } from '@facesets/shared/scan/walk';

const FIXTURES = process.env.FIXTURES_DIR ?? resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'faces');

interface Side {
  provider: ExecutionProvider;
  batch: number;
}

function parseSide(flag: string, raw: string | undefined): Side {
  const m = /^(cpu|cuda)(?::(\d+))?$/.exec(raw ?? '');
  if (!m) throw new Error(`agreement: ${flag} takes provider[:batch], e.g. cuda:32, got "${raw ?? ''}"`);
  const provider = m[1] as ExecutionProvider;
  return { provider, batch: m[2] ? Number(m[2]) : ENGINE_DEFAULTS[provider].batchSize };
}

interface Args {
  a: Side;
  b: Side;
  dir: string;
  max: number;
  /** Child mode: embed with this side only and write the results here. */
  side?: Side;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const config = loadConfig();
  const b: Side = { provider: config.executionProvider, batch: config.engineBatchSize };
  // On CPU the default pair is unbatched against batched; on a GPU host, CPU against CUDA.
  const args: Args = { a: { provider: 'cpu', batch: 1 }, b: b.provider === 'cpu' && b.batch === 1 ? { provider: 'cpu', batch: 32 } : b, dir: FIXTURES, max: 0.01 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (flag === '--a') args.a = parseSide(flag, value);
    else if (flag === '--b') args.b = parseSide(flag, value);
    else if (flag === '--dir') args.dir = resolve(value ?? '');
    else if (flag === '--max' && Number(value) > 0) args.max = Number(value);
    else if (flag === '--side') args.side = parseSide(flag, value);
    else if (flag === '--out') args.out = resolve(value ?? '');
    else throw new Error(`agreement: unknown option "${flag}" (see the header of scripts/agreement.ts)`);
  }
  return args;
}


interface SideResults {
  label: string;
  results: FileResult[];
}

async function embedAll(side: Side, files: string[]): Promise<SideResults> {
  const config = loadConfig();
  const engine = await FaceEngine.create({
    pack: loadModelPack(config.modelDir),
    intraOpThreads: config.intraOpThreads,
    executionProvider: side.provider,
    maxImagePixels: config.maxImagePixels,
    batchSize: side.batch,
    deviceId: config.cudaDevices[0],
  });
  try {
    const { executionProvider, ortVersion, batchSize, note } = engine.info;
    if (note) throw new Error(`agreement: ${note}`);
    const results: FileResult[] = [];
    for (const f of files) results.push(await engine.processFile(f));
    return { label: `${executionProvider} (onnxruntime ${ortVersion}, batch ${batchSize})`, results };
  } finally {
    await engine.close();
  }
}

function cosineDistance(x: Float32Array, y: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < x.length; i++) dot += x[i]! * y[i]!;
  return 1 - dot;
}

/** Pairs each face of `a` with the unpaired face of `b` whose box overlaps it most (IoU ≥ 0.5). */
function pairFaces(a: Face[], b: Face[]): { pairs: [Face, Face][]; onlyA: number; onlyB: number } {
  const free = new Set(b);
  const pairs: [Face, Face][] = [];
  for (const fa of a) {
    let best: Face | undefined, bestIou = 0.5;
    for (const fb of free) {
      const o = iou(fa.box, fb.box);
      if (o >= bestIou) [best, bestIou] = [fb, o];
    }
    if (best) {
      free.delete(best);
      pairs.push([fa, best]);
    }
  }
  return { pairs, onlyA: a.length - pairs.length, onlyB: free.size };
}

/** One side in a child process of this script; embeddings come back as JSON arrays. */
async function embedInChild(side: Side, dir: string, work: string): Promise<SideResults> {
  const out = join(work, `${side.provider}-${side.batch}.json`);
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), '--side', `${side.provider}:${side.batch}`, '--dir', dir, '--out', out];
  try {
    execFileSync(process.execPath, argv, { stdio: 'inherit' });
  } catch {
    throw new Error(`agreement: the ${side.provider}:${side.batch} side failed (its error is above)`);
  }
  const parsed = JSON.parse(await readFile(out, 'utf8')) as SideResults;
  for (const r of parsed.results) if (r.ok) for (const f of r.faces) f.embedding = Float32Array.from(f.embedding as unknown as number[]);
  return parsed;
}

async function main(): Promise<void> {
  const { a, b, dir, max, side, out } = parseArgs(process.argv.slice(2));
  const files = await listImages(dir);
  if (files.length === 0) throw new Error(`agreement: no images under ${dir}`);
  if (side && out) {
    const results = await embedAll(side, files);
    const json = JSON.stringify(results, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    await writeFile(out, json);
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'facesets-agreement-'));
  let A: SideResults, B: SideResults;
  try {
    A = await embedInChild(a, dir, work);
    B = await embedInChild(b, dir, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  process.stdout.write(`a: ${A.label}\nb: ${B.label}\nfolder: ${dir} (${files.length} files)\n\nfile#face  cosine-distance  detScore a/b\n`);
  const distances: number[] = [];
  let onlyA = 0, onlyB = 0, errorsDiffer = 0;
  for (let i = 0; i < files.length; i++) {
    const ra = A.results[i]!, rb = B.results[i]!;
    const name = relative(dir, files[i]!);
    if (!ra.ok || !rb.ok) {
      if (ra.ok !== rb.ok) errorsDiffer++;
      process.stdout.write(`${name}  ${ra.ok ? 'ok' : 'error'} / ${rb.ok ? 'ok' : 'error'}\n`);
      continue;
    }
    const paired = pairFaces(ra.faces, rb.faces);
    onlyA += paired.onlyA;
    onlyB += paired.onlyB;
    for (const [k, [fa, fb]] of paired.pairs.entries()) {
      const d = cosineDistance(fa.embedding, fb.embedding);
      distances.push(d);
      process.stdout.write(`${name}#${k}  ${d.toExponential(2)}  ${fa.detScore.toFixed(3)}/${fb.detScore.toFixed(3)}\n`);
    }
    if (paired.onlyA || paired.onlyB) process.stdout.write(`${name}  faces only in a: ${paired.onlyA}, only in b: ${paired.onlyB}\n`);
  }
  const sorted = [...distances].sort((x, y) => x - y);
  const worst = sorted.at(-1) ?? 0;
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const ok = worst < max && onlyA === 0 && onlyB === 0 && errorsDiffer === 0;
  process.stdout.write(
    `\nagreement  ${distances.length} faces paired, ${onlyA} only in a, ${onlyB} only in b, ${errorsDiffer} files ok on one side only; ` +
      `cosine distance max ${worst.toExponential(2)}, median ${median.toExponential(2)} (goal < ${max}): ${ok ? 'PASS' : 'FAIL'}\n`,
  );
  process.exitCode = ok ? 0 : 1;
}

await main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
