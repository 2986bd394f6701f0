// `facesets submit <bucket> …`: POST /jobs, then optionally follow the job with live progress bars.
import { resolve } from 'node:path';
import { UsageError, type Command } from '../cli';
import { apiClient, exitCodeFor, reportApiError, summaryLines, watchJob } from './status';

const MODES = ['discover', 'scan', 'extend', 'import'];

export interface SubmitArgs {
  body: {
    bucket: string;
    outputRoot?: string;
    mode?: string;
    params?: Record<string, number | string | string[]>;
    force?: boolean;
    callbackUrl?: string;
  };
  watch: boolean;
  idempotencyKey?: string;
}

/** Parses the arguments; relative paths are resolved against the current directory. */
export function parseSubmitArgs(args: string[]): SubmitArgs {
  const positional: string[] = [];
  const params: Record<string, number | string | string[]> = {};
  const out: SubmitArgs = { body: { bucket: '' }, watch: false };
  const value = (i: number, flag: string): string => {
    const v = args[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const [flag, inline] =
      raw.startsWith('--') && raw.includes('=')
        ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
        : [raw, undefined];
    const take = () => inline ?? value(++i, flag);
    switch (flag) {
      case '--output-root':
        out.body.outputRoot = resolve(take());
        break;
      case '--mode': {
        const mode = take();
        if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${mode}"`);
        out.body.mode = mode;
        break;
      }
      case '--param': {
        const kv = take();
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UsageError(`--param takes key=value, got "${kv}"`);
        const v = kv.slice(eq + 1);
        const key = kv.slice(0, eq);
        // a list param (formats=dfl,xmp) is comma-separated
        if (key === 'formats') params[key] = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
        else params[key] = v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
        break;
      }
      case '--force':
        out.body.force = true;
        break;
      case '--watch':
      case '-w':
        out.watch = true;
        break;
      case '--callback-url':
        out.body.callbackUrl = take();
        break;
      case '--idempotency-key':
        out.idempotencyKey = take();
        break;
      default:
        if (raw.startsWith('-')) throw new UsageError(`unknown option "${raw}"`);
        positional.push(raw);
    }
  }
  if (positional.length !== 1) throw new UsageError('give exactly one bucket folder');
  out.body.bucket = resolve(positional[0] as string);
  if (Object.keys(params).length) out.body.params = params;
  return out;
}

export const command: Command = {
  summary: 'submit a job to the API and optionally watch it',
  usage:
    'facesets submit <bucket> [--output-root DIR] [--mode discover|scan|extend|import] [--param key=value]... [--force] ' +
    '[--callback-url URL] [--idempotency-key KEY] [--watch]',
  async run(args) {
    const parsed = parseSubmitArgs(args);
    const client = apiClient();
    try {
      const headers: Record<string, string> = parsed.idempotencyKey ? { 'idempotency-key': parsed.idempotencyKey } : {};
      const created = await client.request<{ id: string; state: string }>('POST', '/jobs', parsed.body, headers);
      if (!parsed.watch) {
        process.stdout.write(`${created.id}\n`);
        return 0;
      }
      process.stderr.write(`submitted job ${created.id}\n`);
      const job = await watchJob(client, created.id);
      process.stdout.write(`${summaryLines(job).join('\n')}\n`);
      return exitCodeFor(job);
    } catch (err) {
      return reportApiError(err);
    }
  },
};
