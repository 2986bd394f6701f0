// Ordered shutdown: resources register as they open and close in reverse order, once, on SIGTERM/SIGINT.
import { writeFile } from 'node:fs/promises';
import type { Logger } from './logger';
import { workerConnection } from './queues';

type Closer = () => Promise<unknown> | unknown;

export interface Lifecycle {
  /** Registers a resource; the last one opened is closed first. */
  add(name: string, close: Closer): void;
  /** Closes everything (idempotent); resolves when done. */
  shutdown(reason: string): Promise<void>;
  /** Calls shutdown on SIGTERM / SIGINT, then exits; a second signal (after a second) exits at once. */
  handleSignals(): void;
}

export function createLifecycle(log: Logger, opts: { timeoutMs?: number } = {}): Lifecycle {
  const closers: { name: string; close: Closer }[] = [];
  let shuttingDown: Promise<void> | null = null;

  async function shutdown(reason: string): Promise<void> {
    if (shuttingDown) return shuttingDown;
    shuttingDown = (async () => {
      log.info({ reason }, 'shutting down');
      for (const { name, close } of closers.reverse()) {
        try {
          await close();
          log.debug({ resource: name }, 'closed');
        } catch (err) {
          log.error({ err, resource: name }, 'close failed');
        }
      }
      log.info('shutdown complete');
    })();
    return shuttingDown;
  }

  return {
    add(name, close) {
      closers.push({ name, close });
    },
    shutdown,
    handleSignals() {
      let firstAt = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        // Ctrl-C reaches a whole process group, and a supervisor (npm start) forwards it too: a repeat within
        // a second is the same request; a later one means "stop waiting".
        if (firstAt && Date.now() - firstAt < 1_000) return;
        if (firstAt) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(130);
        }
        firstAt = Date.now();
        const timer = opts.timeoutMs
          ? setTimeout(() => {
              log.error({ timeoutMs: opts.timeoutMs }, 'shutdown timed out: exiting');
              process.exit(1);
            }, opts.timeoutMs).unref()
          : undefined;
        void shutdown(signal).then(() => {
          clearTimeout(timer);
          process.exit(0);
        });
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    },
  };
}

/**
 * Touches `file` every `intervalMs` while `check` succeeds, so a container health check can test the file's age
 * (workers have no HTTP port). The file holds `{"at": ISO time, ...status()}`. Returns the function that stops it.
 */
export function startHeartbeat(
  file: string,
  check: () => Promise<unknown>,
  log: Logger,
  intervalMs = 10_000,
  status: () => Record<string, unknown> = () => ({}),
): () => void {
  const beat = async () => {
    try {
      await check();
      await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), ...status() })}\n`);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'heartbeat check failed');
    }
  };
  void beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Worker processes have no HTTP port: while Postgres and Redis both answer, touch `file` so a container health
 * check can test its age. The Redis connection and the timer close with the lifecycle.
 */
export function watchWorkerHealth(
  lifecycle: Lifecycle,
  file: string,
  deps: { redisUrl: string; db: { query(sql: string): Promise<unknown> }; log: Logger; status?: () => Record<string, unknown> },
): void {
  const redis = workerConnection(deps.redisUrl);
  const stop = startHeartbeat(file, () => Promise.all([deps.db.query('SELECT 1'), redis.ping()]), deps.log, 10_000, deps.status);
  lifecycle.add('heartbeat', async () => {
    stop();
    await redis.quit().catch(() => redis.disconnect());
  });
}
