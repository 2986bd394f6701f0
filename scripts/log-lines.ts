// How `npm start` prints its processes' output: pino's JSON lines as they are for machines, readable for a person.
import { prettyFactory } from 'pino-pretty';

/** A pino line: one JSON object with a numeric level and time (what every service and the migrator write). */
function pinoRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const rec = JSON.parse(line) as unknown;
    return typeof rec === 'object' && rec !== null && typeof (rec as { level?: unknown }).level === 'number' && 'time' in rec
      ? (rec as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Formats one output line of process `name`, returning what to write (newline included).
 * Not a terminal: pino lines pass unchanged, so the output stays one JSON object per line (each names its
 * `service`); anything else (a crash's stack trace) gets a `[name]` prefix. A terminal: pino lines are
 * pretty-printed (time, level, message, then the other fields on the same line, errors with their stack),
 * every line behind a coloured `[name]`.
 */
export function lineFormatter(name: string, opts: { tty: boolean; colour: number }): (line: string) => string {
  if (!opts.tty) return (line) => (pinoRecord(line) ? `${line}\n` : `[${name}] ${line}\n`);
  const prefix = `\x1b[${opts.colour}m[${name}]\x1b[0m `;
  const pretty = prettyFactory({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,name' });
  return (line) => {
    const text = pinoRecord(line) ? pretty(line).replace(/\n$/, '') : line;
    return text
      .split('\n')
      .map((l) => `${prefix}${l}\n`)
      .join('');
  };
}
