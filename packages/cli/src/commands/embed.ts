// `facesets embed <file>...`: runs the face engine on files and prints one JSON line per file, in input order.
import { resolve } from 'node:path';
import { EnginePool, enginePoolOptions, loadConfig, type Face, type FileResult } from '@facesets/shared';
import { UsageError, type Command } from '../cli';

interface EmbedArgs {
  files: string[];
  detThreshold: number | undefined;
}

export function parseEmbedArgs(args: string[]): EmbedArgs {
  const files: string[] = [];
  let detThreshold: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      files.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--det-threshold' || arg.startsWith('--det-threshold=')) {
      const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      const n = Number(raw);
      if (raw === undefined || raw === '' || !Number.isFinite(n) || n < 0 || n > 1) {
        throw new UsageError(`--det-threshold must be a number from 0 to 1, got "${raw ?? ''}"`);
      }
      detThreshold = n;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option "${arg}"`);
    } else {
      files.push(arg);
    }
  }
  if (files.length === 0) throw new UsageError('no files given');
  return { files, detThreshold };
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function faceJson(f: Face): Record<string, unknown> {
  return {
    box: f.box.map((v) => round(v, 2)),
    kps: f.kps.map(([x, y]) => [round(x, 2), round(y, 2)]),
    detScore: round(f.detScore, 4),
    faceShort: round(f.faceShort, 2),
    blur: round(f.blur, 2),
    // 6 significant digits: distances stay exact to ~1e-6, lines stay ~5 kB per face.
    embedding: Array.from(f.embedding, (v) => Number(v.toPrecision(6))),
  };
}

export function resultLine(r: FileResult): string {
  if (!r.ok) return JSON.stringify({ path: r.path, error: r.error });
  return JSON.stringify({ path: r.path, sha256: r.sha256, width: r.width, height: r.height, faces: r.faces.map(faceJson) });
}

export const command: Command = {
  summary: 'detect, align and embed faces; one JSON line per file (no database)',
  usage: 'facesets embed <file>... [--det-threshold X]',
  async run(args) {
    const { files, detThreshold } = parseEmbedArgs(args);
    let pool: EnginePool;
    try {
      const config = loadConfig();
      pool = await EnginePool.create({ ...enginePoolOptions(config), workers: Math.min(config.engineWorkers, files.length) });
    } catch (err) {
      // Start-up problems (config, missing/altered model, no CUDA) are the operator's to fix: one clear line.
      process.stderr.write(`facesets embed: cannot start the face engine: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    try {
      const opts = detThreshold === undefined ? {} : { detThreshold };
      // Files run concurrently across the workers; lines are printed as soon as their turn comes.
      const results = files.map((f) => pool.process(resolve(f), opts).then((r) => ({ ...r, path: f })));
      for (const result of results) process.stdout.write(`${resultLine(await result)}\n`);
    } finally {
      await pool.close();
    }
    return 0;
  },
};
