import { describe, expect, it } from 'vitest';
import { mulberry32 } from './prng';
import { TopNeighbours } from './top-k';

describe('TopNeighbours', () => {
  it('keeps the k most similar offers of each row', () => {
    const t = new TopNeighbours(2, 3);
    for (const [j, s] of [[10, 0.5], [11, 0.9], [12, 0.1], [13, 0.7], [14, 0.6]] as const) t.offer(0, j, s);
    t.offer(1, 20, 0.3);
    expect([...t.neighbours(0)].sort()).toEqual([11, 13, 14]);
    expect([...t.neighbours(1)]).toEqual([20]);
    expect(t.has(0, 10)).toBe(false);
    expect(t.has(0, 13)).toBe(true);
  });

  it('keeps the first of equal similarities, and matches a full sort on random offers', () => {
    const t = new TopNeighbours(1, 2);
    t.offer(0, 1, 0.5);
    t.offer(0, 2, 0.5);
    t.offer(0, 3, 0.5);
    expect([...t.neighbours(0)].sort()).toEqual([1, 2]);
    const r = mulberry32(3);
    const big = new TopNeighbours(1, 16);
    const offers = Array.from({ length: 500 }, (_, j) => ({ j, s: r() }));
    for (const o of offers) big.offer(0, o.j, o.s);
    const best = offers.sort((a, b) => b.s - a.s).slice(0, 16).map((o) => o.j).sort((a, b) => a - b);
    expect([...big.neighbours(0)].sort((a, b) => a - b)).toEqual(best);
  });
});
