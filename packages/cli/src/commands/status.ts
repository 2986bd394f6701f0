// `facesets status <id> [--watch]`: shows a job; also the API client and live progress view `submit` shares.
import { UsageError, type Command } from '../cli';

export interface JobView {
  id: string;
  mode: string;
  state: string;
  phase: string | null;
  bucket: string;
  counters: Record<string, number>;
  progress: {
    percent: number;
    stages: Record<'scan' | 'embed' | 'cluster', { done: number; total: number | null; state: string }>;
  };
  error: string | null;
  summary: Record<string, unknown> | null;
  createdAt: string;
  finishedAt: string | null;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** The API's error: status and message as the server gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  request<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  /** The job's server-sent `state` events (GET /jobs/:id/events) until the server closes the stream. */
  jobEvents?(id: string): AsyncIterable<JobView>;
}

/** Parses a text/event-stream body into the data of its `state` events. */
export async function* stateEvents<T>(body: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true }).replaceAll('\r\n', '\n');
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const lines = buf.slice(0, end).split('\n');
      buf = buf.slice(end + 2);
      if (!lines.includes('event: state')) continue;
      yield JSON.parse(lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')) as T;
    }
  }
}

export function apiClient(env: NodeJS.ProcessEnv = process.env): ApiClient {
  const base = (env.FACESETS_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = env.FACESETS_TOKEN ?? env.API_TOKEN;
  return {
    async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        throw new ApiError(0, `cannot reach the API at ${base} (FACESETS_URL): ${(err as Error).message}`);
      }
      const text = await res.text();
      const json = text ? (JSON.parse(text) as unknown) : undefined;
      if (!res.ok) {
        const message = (json as { message?: string } | undefined)?.message ?? res.statusText;
        throw new ApiError(res.status, message);
      }
      return json as T;
    },
    async *jobEvents(id: string) {
      let res: Response;
      try {
        res = await fetch(`${base}/jobs/${id}/events`, {
          headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
      } catch (err) {
        throw new ApiError(0, `cannot reach the API at ${base} (FACESETS_URL): ${(err as Error).message}`);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new ApiError(res.status, `GET /jobs/${id}/events answered HTTP ${res.status}`);
      }
      yield* stateEvents<JobView>(res.body as unknown as AsyncIterable<Uint8Array>);
    },
  };
}

/** 0 completed (or still running, for a one-off status), 1 failed or cancelled. */
export function exitCodeFor(job: JobView): number {
  return job.state === 'failed' || job.state === 'cancelled' ? 1 : 0;
}

const BAR_WIDTH = 28;

function bar(done: number, total: number | null, state: string): string {
  if (total === null) {
    return state === 'pending' ? `[${' '.repeat(BAR_WIDTH)}]` : `[${'·'.repeat(BAR_WIDTH)}]`;
  }
  const ratio = total === 0 ? (state === 'done' ? 1 : 0) : Math.min(1, done / total);
  const full = Math.round(ratio * BAR_WIDTH);
  return `[${'█'.repeat(full)}${'░'.repeat(BAR_WIDTH - full)}]`;
}

export function progressLines(job: JobView): string[] {
  const { scan, embed, cluster } = job.progress.stages;
  const c = job.counters;
  return [
    `job ${job.id}  ${job.state}${job.phase ? ` (${job.phase})` : ''}  ${job.progress.percent.toFixed(0)}%`,
    `  scan     ${bar(scan.done, scan.total, scan.state)} ${scan.done} files${c.skipped ? `, ${c.skipped} skipped` : ''}${c.aliases ? `, ${c.aliases} duplicates` : ''}`,
    `  embed    ${bar(embed.done, embed.total, embed.state)} ${embed.done}/${embed.total ?? '?'} new${c.cached ? `, ${c.cached} cached` : ''}, ${c.faces} faces`,
    `  finalise ${bar(cluster.done, cluster.total, cluster.state)} ${cluster.state}`,
  ];
}

export function summaryLines(job: JobView): string[] {
  const c = job.counters;
  const lines = [
    `${job.state}: ${c.found} files found, ${c.skipped} skipped, ${c.aliases} duplicate paths; ` +
      `${c.cached} cached, ${c.embedded} embedded; ${c.faces} faces, ${c.noface} without a face, ${c.errors} unreadable`,
  ];
  if (job.error) lines.push(`error: ${job.error}`);
  if (job.summary) lines.push(`summary: ${JSON.stringify(job.summary)}`);
  return lines;
}

/** Polls the job and redraws the bars (in place on a terminal, one line per change otherwise) until it ends. */
export async function watchJob(
  client: ApiClient,
  id: string,
  out: NodeJS.WriteStream = process.stdout,
  intervalMs = 500,
): Promise<JobView> {
  const tty = out.isTTY === true;
  let drawn = 0;
  let lastLine = '';
  const draw = (job: JobView) => {
    const lines = progressLines(job);
    if (tty) {
      if (drawn) out.write(`\x1b[${drawn}A`);
      out.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
      drawn = lines.length;
    } else {
      const line = `${job.state} ${job.phase ?? ''} ${job.progress.percent.toFixed(0)}%`;
      if (line !== lastLine) out.write(`${lines.join('\n')}\n`);
      lastLine = line;
    }
  };
  if (client.jobEvents) {
    // Pushed by the server; if the stream is refused or breaks off early (older server, proxy), poll instead.
    try {
      for await (const job of client.jobEvents(id)) {
        draw(job);
        if (TERMINAL.has(job.state)) return job;
      }
    } catch (err) {
      if (!(err instanceof ApiError) && !(err instanceof TypeError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  for (;;) {
    const job = await client.request<JobView>('GET', `/jobs/${id}`);
    draw(job);
    if (TERMINAL.has(job.state)) return job;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function showJob(id: string, opts: { watch: boolean; json: boolean }): Promise<number> {
  const client = apiClient();
  try {
    const job = opts.watch ? await watchJob(client, id) : await client.request<JobView>('GET', `/jobs/${id}`);
    if (opts.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
    else {
      if (!opts.watch) process.stdout.write(`${progressLines(job).join('\n')}\n`);
      if (TERMINAL.has(job.state)) process.stdout.write(`${summaryLines(job).join('\n')}\n`);
    }
    return exitCodeFor(job);
  } catch (err) {
    return reportApiError(err);
  }
}

/** Prints an API failure; a request the server rejected (4xx) is a usage error (2), anything else 1. */
export function reportApiError(err: unknown): number {
  if (!(err instanceof ApiError)) throw err;
  process.stderr.write(`facesets: ${err.message}${err.status ? ` (HTTP ${err.status})` : ''}\n`);
  return err.status >= 400 && err.status < 500 && err.status !== 404 ? 2 : 1;
}

export const command: Command = {
  summary: 'show a job',
  usage: 'facesets status <id> [--watch] [--json]',
  async run(args) {
    let watch = false;
    let json = false;
    const ids: string[] = [];
    for (const arg of args) {
      if (arg === '--watch' || arg === '-w') watch = true;
      else if (arg === '--json') json = true;
      else if (arg.startsWith('-')) throw new UsageError(`unknown option "${arg}"`);
      else ids.push(arg);
    }
    if (ids.length !== 1) throw new UsageError('give exactly one job id');
    const id = ids[0] as string;
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`"${id}" is not a job id (a UUID)`);
    return showJob(id, { watch, json });
  },
};
