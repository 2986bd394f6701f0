// `npm start`: migrates, then runs the API, one embed worker and one cluster worker; logs readable on a terminal.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineFormatter } from './log-lines';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = ['api', 'embed-worker', 'cluster-worker'] as const;
const colours = { migrate: 35, api: 36, 'embed-worker': 33, 'cluster-worker': 32 } as const;

// Local use: with no roots configured, allow any folder (a deployment sets BUCKET_ROOTS / OUTPUT_ROOTS).
const env = { ...process.env };
for (const name of ['BUCKET_ROOTS', 'OUTPUT_ROOTS']) {
  if (!env[name]) {
    env[name] = '/';
    process.stderr.write(`start-all: ${name} is not set; allowing every folder (local use only)\n`);
  }
}

// Local use: callbacks to a receiver on this machine; a deployment lists its receivers or leaves it empty.
if (env.CALLBACK_ALLOW_HOSTS === undefined) {
  env.CALLBACK_ALLOW_HOSTS = 'localhost,127.0.0.1,::1';
  process.stderr.write('start-all: CALLBACK_ALLOW_HOSTS is not set; allowing callbacks to loopback (local use only)\n');
}

// Each worker serves Prometheus metrics on its own port (the API serves /metrics on its HTTP port).
const metricsPorts: Partial<Record<keyof typeof colours, string>> = {
  'embed-worker': env.EMBED_METRICS_PORT || '9464',
  'cluster-worker': env.CLUSTER_METRICS_PORT || '9465',
};

function run(name: keyof typeof colours, script: string): ChildProcess {
  const port = metricsPorts[name];
  const childEnv = port === undefined ? env : { ...env, METRICS_PORT: port };
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    // Readable logs for a person at a terminal, JSON lines for anything else (a file, a log collector).
    const format = lineFormatter(name, { tty: out.isTTY === true, colour: colours[name] });
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) out.write(format(line));
    });
    stream?.on('end', () => partial && out.write(format(partial)));
  }
  return child;
}

const exitOf = (child: ChildProcess) =>
  new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

const migrateCode = await exitOf(run('migrate', 'packages/shared/src/db/migrate-cli.ts'));
if (migrateCode !== 0) {
  process.stderr.write('start-all: migration failed; not starting the services\n');
  process.exit(migrateCode);
}

const children = services.map((s) => ({ name: s, child: run(s, `services/${s}/src/main.ts`) }));
let stopping = false;

function stopAll(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) if (child.exitCode === null) child.kill(signal);
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

const codes = await Promise.all(
  children.map(async ({ name, child }) => {
    const code = await exitOf(child);
    if (!stopping) {
      process.stderr.write(`start-all: ${name} exited with ${code}; stopping the others\n`);
      stopAll('SIGTERM');
    }
    return code;
  }),
);
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
