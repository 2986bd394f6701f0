import { describe, expect, it } from 'vitest';
import { groupByDate, YEAR_MS } from './date-eras';

const at = (iso: string | null) => ({ iso, date: iso === null ? null : new Date(`${iso}T00:00:00Z`) });
const spansOf = (g: ReturnType<typeof groupByDate<ReturnType<typeof at>>>) =>
  g.spans.map((s) => [s.from.toISOString().slice(0, 10), s.to.toISOString().slice(0, 10), s.members.length]);

describe('groupByDate', () => {
  it('cuts at a gap of at least gapYears and keeps shorter gaps inside one span', () => {
    // 2002-06-01 → 2005-06-01 is 1096 days = 3.0007 mean years (≥ 3: cut); 2001-01-01 → 2002-06-01 is 516 days.
    const items = ['2005-07-01', '2001-01-01', '2005-06-01', '2002-06-01'].map(at);
    const g = groupByDate(items, (x) => x.date, 3);
    expect(spansOf(g)).toEqual([
      ['2001-01-01', '2002-06-01', 2],
      ['2005-06-01', '2005-07-01', 2],
    ]);
    expect(g.undated).toEqual([]);
    expect((Date.UTC(2005, 5, 1) - Date.UTC(2002, 5, 1)) / YEAR_MS).toBeCloseTo(3.0007, 4);
  });

  it('does not cut at 1092 days (2.99 years) with the 3-year default', () => {
    const g = groupByDate(['2002-06-01', '2005-05-28'].map(at), (x) => x.date, 3);
    expect(spansOf(g)).toEqual([['2002-06-01', '2005-05-28', 2]]);
  });

  it('splits two decades into exactly two spans at the gap, and leaves undated items out of every span', () => {
    const items = [at('1998-03-01'), at(null), at('1999-08-15'), at('2016-01-10'), at('2017-12-24'), at(null)];
    const g = groupByDate(items, (x) => x.date, 3);
    expect(spansOf(g)).toEqual([
      ['1998-03-01', '1999-08-15', 2],
      ['2016-01-10', '2017-12-24', 2],
    ]);
    expect(g.undated).toHaveLength(2);
  });

  it('has no span without dates, and refuses a gap that is not positive', () => {
    expect(groupByDate([at(null)], (x) => x.date, 3).spans).toEqual([]);
    expect(() => groupByDate([], () => null, 0)).toThrow(/gapYears must be positive/);
  });
});
