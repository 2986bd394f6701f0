// mapOrdered: input order kept, never more than `limit` calls pending, input pulled lazily.
import { describe, expect, it } from 'vitest';
import { mapOrdered } from './ordered-map';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapOrdered', () => {
  it('yields in input order although later items finish first', async () => {
    // Item i takes (5 - i) ms: finish order is 4 3 2 1 0, yield order must stay 0 1 2 3 4.
    const out: number[] = [];
    for await (const r of mapOrdered([0, 1, 2, 3, 4], 5, async (i) => (await sleep(5 - i), i * 10))) out.push(r);
    expect(out).toEqual([0, 10, 20, 30, 40]);
  });

  it('keeps at most `limit` calls in flight and pulls input only as results leave', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let pulled = 0;
    let yielded = 0;
    let maxAhead = 0;
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - yielded);
        yield i;
      }
    }
    const seen: number[] = [];
    for await (const r of mapOrdered(source(), 3, async (i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(i % 7 === 0 ? 2 : 0);
      inFlight--;
      return i;
    })) {
      yielded++;
      seen.push(r);
    }
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(maxInFlight).toBe(3);
    // Items read but not yet yielded never exceed the limit: intake pauses while 3 wait.
    expect(maxAhead).toBe(3);
  });

  it('refuses a limit below 1', async () => {
    await expect(mapOrdered([1], 0, async (x) => x).next()).rejects.toThrow(/limit must be a positive integer/);
  });
});
