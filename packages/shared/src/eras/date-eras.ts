// Date eras: one person's dated faces cut into spans wherever two consecutive capture times lie a gap apart.

/** A mean Gregorian year, so a gap of "3 years" is the same length whichever years it spans. */
export const YEAR_MS = 365.2425 * 86_400_000;

export interface DateSpan<T> {
  from: Date;
  to: Date;
  /** Oldest first (ties keep input order). */
  members: T[];
}

export interface DateGrouping<T> {
  /** Oldest span first. */
  spans: DateSpan<T>[];
  /** Items without a capture time, in input order: they form no span of their own. */
  undated: T[];
}

/**
 * Sorts the dated items by time and starts a new span wherever the gap to the previous item is at least
 * `gapYears`. Spans therefore never overlap, and every dated item is in exactly one.
 */
export function groupByDate<T>(items: readonly T[], dateOf: (item: T) => Date | null, gapYears: number): DateGrouping<T> {
  if (!(gapYears > 0)) throw new Error(`groupByDate: gapYears must be positive, got ${gapYears}`);
  const gap = gapYears * YEAR_MS;
  const undated: T[] = [];
  const dated: { item: T; t: number; i: number }[] = [];
  items.forEach((item, i) => {
    const d = dateOf(item);
    if (d === null || !Number.isFinite(d.getTime())) undated.push(item);
    else dated.push({ item, t: d.getTime(), i });
  });
  dated.sort((a, b) => a.t - b.t || a.i - b.i);
  const spans: DateSpan<T>[] = [];
  let prev = -Infinity;
  for (const { item, t } of dated) {
    const last = spans[spans.length - 1];
    if (!last || t - prev >= gap) spans.push({ from: new Date(t), to: new Date(t), members: [item] });
    else {
      last.members.push(item);
      last.to = new Date(t);
    }
    prev = t;
  }
  return { spans, undated };
}
