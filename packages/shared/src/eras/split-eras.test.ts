import { describe, expect, it } from 'vitest';
import { eraDescriptor, numberEras, orderEras, splitEras, type EraFace } from './split-eras';

const PARAMS = { eraGapYears: 3, eraThreshold: 0.4 };
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const face = (sha256: string, x: number[], date: string | null): EraFace & { id: string } => ({
  id: sha256,
  sha256,
  embedding: Float32Array.from(x),
  capturedAt: date === null ? null : day(date),
});
const ids = (members: { id: string }[]) => members.map((m) => m.id);

// Young look (1, 0) and older look (0.6, 0.8): cosine distance 1 − 0.6 = 0.4 apart.
const YOUNG = [1, 0], OLD = [0.6, 0.8];

describe('splitEras', () => {
  it('date: two spans at the decade gap; undated faces stay with the parent', async () => {
    const faces = [
      face('a', YOUNG, '1999-05-01'),
      face('b', YOUNG, '2001-02-01'),
      face('c', OLD, '2015-07-01'),
      face('d', OLD, '2016-07-01'),
      face('e', OLD, null),
    ];
    const split = await splitEras(faces, 'date', PARAMS);
    expect(split.eras.map((e) => [eraDescriptor(e), ids(e.members)])).toEqual([
      [{ by: 'date', from: '1999-05-01', to: '2001-02-01' }, ['a', 'b']],
      [{ by: 'date', from: '2015-07-01', to: '2016-07-01' }, ['c', 'd']],
    ]);
    expect(ids(split.unplaced)).toEqual(['e']);
  });

  it('auto: an undated face joins the date era whose centroid is nearest', async () => {
    const faces = [
      face('a', YOUNG, '1999-05-01'),
      face('c', OLD, '2015-07-01'),
      face('u1', [0.98, 0.2], null), // to (1,0): 0.02; to (0.6,0.8): 1 − 0.748 = 0.252
      face('u2', [0.5, 0.866], null), // to (1,0): 0.5; to (0.6,0.8): 1 − 0.9928 = 0.0072
    ];
    const split = await splitEras(faces, 'auto', PARAMS);
    expect(split.eras.map((e) => [e.by, ids(e.members)])).toEqual([
      ['auto', ['a', 'u1']],
      ['auto', ['c', 'u2']],
    ]);
    // The span is that of the dated members.
    expect(eraDescriptor(split.eras[0]!)).toEqual({ by: 'auto', from: '1999-05-01', to: '1999-05-01' });
    expect(split.unplaced).toEqual([]);
  });

  it('appearance: average linkage at eraThreshold; faces of one photo never share an era', async () => {
    const faces = [face('p1', YOUNG, null), face('p2', YOUNG, null), face('p3', OLD, null), face('p4', OLD, null)];
    // The two looks are 0.4 apart on average: at 0.41 they merge, at 0.39 they stay two eras of two.
    expect((await splitEras(faces, 'appearance', { ...PARAMS, eraThreshold: 0.41 })).eras).toHaveLength(1);
    const apart = await splitEras(faces, 'appearance', { ...PARAMS, eraThreshold: 0.39 });
    expect(apart.eras.map((e) => [eraDescriptor(e), ids(e.members)])).toEqual([
      [{ by: 'appearance', from: null, to: null }, ['p1', 'p2']],
      [{ by: 'appearance', from: null, to: null }, ['p3', 'p4']],
    ]);
    // Two identical faces of one photo are never put together.
    const same = await splitEras([face('x', YOUNG, null), face('x', YOUNG, null)], 'appearance', PARAMS);
    expect(same.eras.map((e) => e.members.length)).toEqual([1, 1]);
  });

  it('auto without a single date falls back to appearance eras', async () => {
    const faces = [face('p1', YOUNG, null), face('p3', OLD, null)];
    const split = await splitEras(faces, 'auto', { ...PARAMS, eraThreshold: 0.3 });
    expect(split.eras.map((e) => [e.by, ids(e.members)])).toEqual([
      ['auto', ['p1']],
      ['auto', ['p3']],
    ]);
  });
});

describe('orderEras', () => {
  it('numbers oldest first, undated eras last, larger before smaller, then by source', () => {
    const era = (from: string | null, members: string[]) => ({
      by: 'auto' as const,
      from: from === null ? null : day(from),
      to: null,
      members: members.map((m) => face(m, YOUNG, null)),
    });
    const ordered = orderEras([era(null, ['z']), era('2010-01-01', ['q']), era(null, ['x', 'y']), era('2001-01-01', ['r']), era(null, ['b'])]);
    expect(ordered.map((e) => ids(e.members).join(''))).toEqual(['r', 'q', 'xy', 'b', 'z']);
  });
});

describe('numberEras', () => {
  it('continues after the largest name already used in the output root, _thin/ included, in era order', () => {
    const eras = [
      { by: 'date' as const, from: day('2015-01-01'), to: day('2015-01-01'), members: [face('n', OLD, '2015-01-01')] },
      { by: 'date' as const, from: day('1999-01-01'), to: day('1999-01-01'), members: [face('o', YOUNG, '1999-01-01')] },
    ];
    const named = numberEras(eras, ['faceset_001', '_thin/faceset_007', 'faceset_003']);
    expect(named.map((e) => [e.name, ids(e.era.members)])).toEqual([
      ['faceset_008', ['o']],
      ['faceset_009', ['n']],
    ]);
  });
});
