// Fault-test helpers: a supervised embed worker that is restarted when it dies, kill -9, waits with deadlines.
import { startChildService, waitForOutput, type ChildService } from '../../support/child-worker';

export interface Supervised {
  /** Child processes started so far (the current one last). */
  readonly children: ChildService[];
  /** Exits that were not asked for by `stop()` (crashes, kill -9). */
  readonly crashes: number;
  current(): ChildService;
  /** kill -9 of the current child; the supervisor starts the next one after `restartDelayMs`. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

/** Runs a worker the way a process supervisor (systemd, Kubernetes) does: whenever it dies, start another. */
export function supervise(
  service: 'embed-worker' | 'cluster-worker',
  env: Record<string, string>,
  opts: { restartDelayMs?: number; maxRestarts?: number } = {},
): Supervised {
  const children: ChildService[] = [];
  let stopped = false;
  let crashes = 0;
  const start = (): void => {
    const child = startChildService(service, env);
    children.push(child);
    void child.exited.then(() => {
      if (stopped) return;
      crashes += 1;
      if (crashes > (opts.maxRestarts ?? 10)) return;
      setTimeout(() => !stopped && start(), opts.restartDelayMs ?? 200);
    });
  };
  start();
  return {
    children,
    get crashes() {
      return crashes;
    },
    current: () => children[children.length - 1] as ChildService,
    async kill9() {
      await (children[children.length - 1] as ChildService).kill('SIGKILL');
    },
    async stop() {
      stopped = true;
      for (const c of children) await c.kill('SIGKILL');
    },
    output: () => children.map((c, i) => `--- child ${i}\n${c.output()}`).join('\n'),
  };
}

export async function ready(s: Supervised, text = 'ready'): Promise<void> {
  await waitForOutput(s.current(), text, 90_000);
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Prints a figure the closing note reports (recovery time after a fault), visible in the test log. */
export function figure(name: string, ms: number): void {
  process.stdout.write(`[fault-figure] ${name}: ${(ms / 1000).toFixed(1)} s\n`);
}

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE } from '@facesets/shared/queues';

/** Jobs still waiting, active, delayed or waiting for children in the pipeline's queues (none once a job ended). */
export async function pendingQueueWork(redisUrl: string, prefix: string): Promise<Record<string, number>> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const out: Record<string, number> = {};
  try {
    for (const name of [QUEUE.scan, QUEUE.embed, QUEUE.cluster]) {
      const q = new Queue(name, { connection, prefix });
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'prioritized');
      const n = Object.values(c).reduce((a, b) => a + b, 0);
      if (n) out[name] = n;
      await q.close();
    }
  } finally {
    await connection.quit();
  }
  return out;
}

/**
 * Waits (at most `timeoutMs`) until the pipeline's queues hold no work, then answers what is left ({} when none).
 * A job's row can read completed a moment before its queue job leaves the active list (or, after a kill, before the
 * stall check hands the dead worker's job back and it runs once more), so "nothing left" is checked with a deadline.
 */
export async function queueWorkLeft(redisUrl: string, prefix: string, timeoutMs = 30_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await pendingQueueWork(redisUrl, prefix);
    if (Object.keys(left).length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}
