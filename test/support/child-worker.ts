// Starts a service as a real child process (tsx), joined to a test's world through its environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@facesets/shared/config';

export interface ChildService {
  process: ChildProcess;
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startChildService(service: 'embed-worker' | 'cluster-worker' | 'api', env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services', service, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the child's output contains `text`, failing with the output so far if it exits or times out. */
export async function waitForOutput(child: ChildService, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.output().includes(text)) {
    if (child.process.exitCode !== null) throw new Error(`child exited (${child.process.exitCode}):\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
