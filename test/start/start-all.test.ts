// `npm start`'s output: one JSON object per line when stdout is not a terminal, readable lines on a terminal.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../packages/shared/src/config';
import { lineFormatter } from '../../scripts/log-lines';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  env = await createTestEnv({ LOG_LEVEL: 'info', PORT: '0', ENGINE_WORKERS: '1' });
});

afterAll(async () => {
  await env?.close();
});

describe('npm start (scripts/start-all.ts)', () => {
  it('writes its services\' logs as plain JSON lines when stdout is not a terminal; each worker serves its metrics', async () => {
    const ports = { embed: await freePort(), cluster: await freePort() };
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/start-all.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env.env, EMBED_METRICS_PORT: String(ports.embed), CLUSTER_METRICS_PORT: String(ports.cluster) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const ready = ['Server listening', 'embed worker ready', 'cluster worker ready'];
      await expect.poll(() => ready.every((m) => stdout.includes(m)), { timeout: 60_000, interval: 200 }).toBe(true);
      const embed = await (await fetch(`http://127.0.0.1:${ports.embed}/metrics`)).text();
      expect(embed).toContain('facesets_engine_workers 1');
      expect(embed).toContain('facesets_files_total{result="face"} 0');
      const cluster = await (await fetch(`http://127.0.0.1:${ports.cluster}/metrics`)).text();
      expect(cluster).toContain('facesets_callbacks_total{result="delivered"} 0');
      expect(cluster).not.toContain('facesets_files_total');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as { service: string; level: number; msg: string });
    expect(new Set(records.map((r) => r.service))).toEqual(new Set(['migrate', 'api', 'embed-worker', 'cluster-worker']));
    expect(records.every((r) => typeof r.level === 'number' && typeof r.msg === 'string')).toBe(true);
  });

  it('on a terminal prints time, level, message and fields behind a coloured service name; other lines prefixed', () => {
    const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
    const tty = lineFormatter('api', { tty: true, colour: 36 });
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 7, hostname: 'h', service: 'api', name: 'api', jobId: 'j-1', msg: 'slow callback' });
    const out = tty(line);
    expect(out.startsWith('\x1b[36m[api]\x1b[0m ')).toBe(true);
    expect(plain(out)).toMatch(/^\[api\] \[\d\d:\d\d:\d\d\.\d{3}\] WARN: slow callback \{"jobId":"j-1"\}\n$/);
    const err = plain(tty(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } })));
    expect(err.split('\n').filter(Boolean).every((l) => l.startsWith('[api] '))).toBe(true);
    expect(err).toMatch(/ERROR: failed/);
    expect(err).toMatch(/at x/);
    expect(plain(tty('a stack trace line'))).toBe('[api] a stack trace line\n');
    const pipe = lineFormatter('api', { tty: false, colour: 36 });
    expect(pipe(line)).toBe(`${line}\n`);
    expect(pipe('a stack trace line')).toBe('[api] a stack trace line\n');
  });
});
