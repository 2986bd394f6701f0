// Click and shift-click selection on a grid of five faces a..e.
import { describe, expect, it } from 'vitest';
import { clickFace, emptySelection, keepShown } from './selection';

const order = ['a', 'b', 'c', 'd', 'e'];
const ids = (s: { selected: ReadonlySet<string> }) => [...s.selected].sort();

describe('clickFace', () => {
  it('toggles one face and makes it the anchor', () => {
    const one = clickFace(emptySelection, order, 'c', false);
    expect(ids(one)).toEqual(['c']);
    expect(one.anchor).toBe('c');
    const none = clickFace(one, order, 'c', false);
    expect(ids(none)).toEqual([]);
  });

  it('shift-click adds the run from the anchor, in either direction, and keeps the anchor', () => {
    const b = clickFace(emptySelection, order, 'b', false);
    expect(ids(clickFace(b, order, 'd', true))).toEqual(['b', 'c', 'd']);
    const d = clickFace(emptySelection, order, 'd', false);
    const run = clickFace(d, order, 'a', true);
    expect(ids(run)).toEqual(['a', 'b', 'c', 'd']);
    expect(run.anchor).toBe('d');
  });

  it('shift-click with no anchor acts as a plain click; an unknown face changes nothing', () => {
    expect(ids(clickFace(emptySelection, order, 'e', true))).toEqual(['e']);
    const b = clickFace(emptySelection, order, 'b', false);
    expect(clickFace(b, order, 'zz', false)).toBe(b);
  });
});

describe('keepShown', () => {
  it('drops faces that left the grid and an anchor that left with them', () => {
    let s = clickFace(emptySelection, order, 'a', false);
    s = clickFace(s, order, 'c', true);
    const kept = keepShown(s, ['b', 'c', 'd']);
    expect(ids(kept)).toEqual(['b', 'c']);
    expect(kept.anchor).toBeNull();
  });
});
