// Throughput benchmark of the face engine (EnginePool) over a folder of photos, start-up excluded.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { EnginePool, enginePoolOptions, loadConfig, REPO_ROOT, type FileOk, type FileResult } from '@facesets/shared';
import { listImages } from '../packages/shared/src/scan/walk';

const FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'faces');

interface BenchArgs {
  dir: string;
  workers: number;
  threads: number;
  batch: number;
  sessions: 'per-worker' | 'per-device' | undefined;
  repeat: number;
  syntheticMp: number | undefined;
  syntheticCount: number;
}

function parseArgs(argv: string[]): BenchArgs {
  const config = loadConfig();
  const args: BenchArgs = {
    dir: FIXTURES + '/people',
    workers: config.engineWorkers,
    threads: config.intraOpThreads,
    batch: config.engineBatchSize,
    sessions: undefined,
    repeat: 3,
    syntheticMp: undefined,
    syntheticCount: 40,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    const num = (): number => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`bench: ${flag} needs a positive number, got "${value ?? ''}"`);
      return n;
    };
    if (flag === '--dir') args.dir = resolve(value ?? '');
    else if (flag === '--workers') args.workers = Math.round(num());
    else if (flag === '--threads') args.threads = Math.round(num());
    else if (flag === '--batch') args.batch = Math.round(num());
    else if (flag === '--sessions' && (value === 'per-worker' || value === 'per-device')) args.sessions = value;
    else if (flag === '--repeat') args.repeat = Math.round(num());
    else if (flag === '--synthetic-mp') args.syntheticMp = num();
    else if (flag === '--synthetic-count') args.syntheticCount = Math.round(num());
    else throw new Error(`bench: unknown option "${flag}" (see the header of scripts/bench.ts)`);
  }
  return args;
}


/** ~count JPEGs of ~mp megapixels: the fixtures' colour photos resized up or down to that size. */
async function buildSynthetic(mp: number, count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'facesets-bench-'));
  const sources = (await listImages(FIXTURES)).filter((p) => /\.jpe?g$/i.test(p));
  for (let i = 0; i < count; i++) {
    const src = sources[i % sources.length]!;
    const meta = await sharp(src).rotate().metadata();
    const w = meta.autoOrient?.width ?? meta.width ?? 1, h = meta.autoOrient?.height ?? meta.height ?? 1;
    const s = Math.sqrt((mp * 1e6) / (w * h));
    await sharp(src).rotate().resize(Math.round(w * s), Math.round(h * s)).jpeg({ quality: 90 }).toFile(join(dir, `synthetic_${String(i).padStart(3, '0')}.jpg`));
  }
  return dir;
}

async function runAll(pool: EnginePool, files: string[]): Promise<FileResult[]> {
  return Promise.all(files.map((f) => pool.process(f)));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const synthetic = args.syntheticMp === undefined ? undefined : await buildSynthetic(args.syntheticMp, args.syntheticCount);
  try {
    const dir = synthetic ?? args.dir;
    const files = await listImages(dir);
    if (files.length === 0) throw new Error(`bench: no images under ${dir}`);
    const config = loadConfig();
    const pool = await EnginePool.create({
      ...enginePoolOptions(config),
      workers: args.workers,
      intraOpThreads: args.threads,
      batchSize: args.batch,
      ...(args.sessions ? { sharedSessions: args.sessions === 'per-device' } : {}),
    });
    const info = pool.info;
    try {
      // Warm-up (excluded): every worker's sessions see a first run.
      await runAll(pool, files.slice(0, Math.max(args.workers * 2, 4)));
      const results: FileResult[] = [];
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      for (let r = 0; r < args.repeat; r++) results.push(...(await runAll(pool, files)));
      const seconds = (performance.now() - start) / 1000;
      // CPU time of the whole process (all threads: workers, libvips, ONNX): unlike wall time it hardly moves
      // when other programs share the machine, so runs on a busy box stay comparable.
      const cpu = process.cpuUsage(cpuStart);
      const cpuMsPerImage = (cpu.user + cpu.system) / 1000 / results.length;
      const ok = results.filter((r): r is FileOk => r.ok);
      const faces = ok.reduce((n, r) => n + r.faces.length, 0);
      const mean = (key: keyof FileOk['timings']): string =>
        (ok.reduce((s, r) => s + (r.timings[key] ?? 0), 0) / Math.max(1, ok.length)).toFixed(1);
      const perFace = (key: keyof FileOk['timings']): number => ok.reduce((s, r) => s + (r.timings[key] ?? 0), 0) / Math.max(1, faces);
      const mp = ok.reduce((s, r) => s + (r.width * r.height) / 1e6, 0) / Math.max(1, ok.length);
      const lines = [
        `folder      ${synthetic ? `synthetic (${args.syntheticCount} JPEGs of ~${args.syntheticMp} MP)` : dir}`,
        `machine     ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}`,
        `engine      ${info.executionProvider}${info.devices ? ` on CUDA devices ${info.devices.join(',')}` : ''}, onnxruntime ${info.ortVersion}, batch ${info.batchSize}${info.note ? ` (${info.note})` : ''}`,
        `settings    ${args.workers} workers × ${args.threads} intra-op threads, sessions ${info.sessions}, repeat ${args.repeat}, start-up and warm-up excluded`,
        `images      ${results.length} (${files.length} files, mean ${mp.toFixed(2)} MP), ${results.length - ok.length} errors, ${faces} faces`,
        `throughput  ${(results.length / seconds).toFixed(1)} images/s, ${(faces / seconds).toFixed(1)} faces/s (${seconds.toFixed(2)} s)`,
        `cpu         ${cpuMsPerImage.toFixed(1)} ms per image (all threads; ${availableParallelism()} idle cores would allow ≤ ${((availableParallelism() * 1000) / cpuMsPerImage).toFixed(1)} images/s)`,
        `stage ms    decode ${mean('decode')}, detect ${mean('detect')}, landmark ${mean('landmark')}, embed ${mean('embed')} (mean per image, per worker)`,
        `pose        ${perFace('pose').toFixed(2)} ms per face (of landmark), ${((100 * perFace('pose')) / Math.max(1e-9, perFace('embed'))).toFixed(1)} % of embed's ${perFace('embed').toFixed(1)} ms per face`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await pool.close();
    }
  } finally {
    if (synthetic) await rm(synthetic, { recursive: true, force: true });
  }
}

await main();
