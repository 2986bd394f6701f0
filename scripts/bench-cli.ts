// Throughput of `facesets embed` as a user runs it (its bin script, a real process), to set beside `npm run bench`.
// Usage: tsx scripts/bench-cli.ts [--dir DIR] [--repeat N] [--stdin] [--bin PATH]
//   --repeat N  the folder's images N times over (3, as `npm run bench` does), passed on the command line,
//               or through `--files-from -` with --stdin;  --bin  another checkout's packages/cli/bin/facesets.js.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../packages/shared/src/config';
import { listImages } from '../packages/shared/src/scan/walk';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces', 'people') },
    repeat: { type: 'string', default: '3' },
    stdin: { type: 'boolean', default: false },
    bin: { type: 'string', default: join(REPO_ROOT, 'packages', 'cli', 'bin', 'facesets.js') },
  },
});
const dir = resolve(values.dir);
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`bench-cli: --repeat needs a positive integer, got "${values.repeat}"`);

const images = await listImages(dir);
if (images.length === 0) throw new Error(`bench-cli: no images under ${dir}`);
const files = Array.from({ length: repeat }, () => images).flat();

/** Peak resident memory of a process so far (Linux), in MB; undefined once it has gone. */
function peakRssMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** CPU time of a process, all threads (user + system), in ms; clock ticks are 10 ms on Linux. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const start = performance.now();
const child = spawn(process.execPath, [values.bin, 'embed', ...(values.stdin ? ['--files-from', '-'] : files)], {
  cwd: REPO_ROOT,
  stdio: [values.stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'],
});
if (values.stdin) child.stdin!.end(files.map((f) => `${f}\n`).join(''));
const stamps: number[] = [];
let cpuAtFirst = 0;
let cpuAtLast = 0;
let errors = 0;
let faces = 0;
let rest = '';
let peak = 0;
const poll = setInterval(() => (peak = Math.max(peak, peakRssMb(child.pid!) ?? 0)), 50);
child.stdout!.setEncoding('utf8');
child.stdout!.on('data', (chunk: string) => {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop()!;
  for (const line of lines) {
    stamps.push(performance.now());
    // The last line is read before the process exits (it still has to close its pool).
    cpuAtLast = cpuMs(child.pid!);
    if (stamps.length === 1) cpuAtFirst = cpuAtLast;
    const r = JSON.parse(line) as { error?: string; faces?: unknown[] };
    if (r.error !== undefined) errors++;
    faces += r.faces?.length ?? 0;
  }
});
const [code, signal] = (await new Promise((res) => child.once('exit', (c, s) => res([c, s])))) as [number | null, string | null];
clearInterval(poll);
const total = (performance.now() - start) / 1000;
if (code !== 0 || stamps.length !== files.length) {
  throw new Error(`bench-cli: facesets embed exited ${code ?? signal} after ${stamps.length} of ${files.length} lines`);
}
const first = (stamps[0]! - start) / 1000;
const steady = (stamps.at(-1)! - stamps[0]!) / 1000;
const lines = [
  `folder      ${dir} × ${repeat} (${values.stdin ? '--files-from -' : 'argv'}), ${availableParallelism()} cores, ENGINE_WORKERS ${process.env.ENGINE_WORKERS ?? 'default'}`,
  `images      ${files.length} (${images.length} files), ${errors} errors, ${faces} faces`,
  `start-up    ${first.toFixed(2)} s to the first line (process, engine start, first file)`,
  `throughput  ${((files.length - 1) / steady).toFixed(1)} images/s after the first line (${steady.toFixed(2)} s), ` +
    `${(files.length / total).toFixed(1)} images/s end to end (${total.toFixed(2)} s)`,
  `cpu         ${((cpuAtLast - cpuAtFirst) / (files.length - 1)).toFixed(1)} ms per image after the first line (all threads, as \`npm run bench\` counts it), ` +
    `${(cpuAtLast / files.length).toFixed(1)} ms per image end to end (${(cpuAtFirst / 1000).toFixed(2)} s before the first line)`,
  `memory      ${peak.toFixed(0)} MB peak RSS of the CLI process`,
];
process.stdout.write(`${lines.join('\n')}\n`);
