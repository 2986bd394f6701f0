// Values from files we did not write, made storable in jsonb: Postgres refuses \u0000 and lone surrogates in text.
import { LONE_SURROGATE } from '../identities/label';

const LONE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

/** A deep copy of `value` in which every string (and key) holding NUL or a lone surrogate has them as U+FFFD. */
export function jsonbSafe(value: unknown): unknown {
  if (typeof value === 'string') return safeString(value);
  if (Array.isArray(value)) return value.map(jsonbSafe);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [safeString(k), jsonbSafe(v)]));
  }
  return value;
}

function safeString(s: string): string {
  return s.includes('\0') || LONE_SURROGATE.test(s) ? s.replace(LONE_ALL, '\ufffd').replaceAll('\0', '\ufffd') : s;
}
