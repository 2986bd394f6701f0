import { describe, expect, it } from 'vitest';
import { EdgeList } from './threshold-graph';
import { labelsOf, pairwiseAgreement } from './agreement';
import { connectedComponents } from './components';

describe('pairwiseAgreement', () => {
  it('counts the pairs two clusterings share', () => {
    // Reference {0,1,2} {3}; found {0,1} {2,3}: reference has 3 pairs, found 2, shared 1 (0–1).
    const ref = labelsOf(4, [[0, 1, 2]]);
    const found = labelsOf(4, [[0, 1], [2, 3]]);
    const a = pairwiseAgreement(ref, found);
    expect(a.precision).toBeCloseTo(1 / 2);
    expect(a.recall).toBeCloseTo(1 / 3);
    expect(a.f).toBeCloseTo(0.4);
    expect(pairwiseAgreement(ref, ref).f).toBe(1);
    expect(pairwiseAgreement(labelsOf(3, []), labelsOf(3, [])).f).toBe(1);
  });
});

describe('connectedComponents', () => {
  it('numbers components by their smallest row', () => {
    const e = new EdgeList();
    e.push(4, 1);
    e.push(3, 5);
    e.push(5, 0);
    const c = connectedComponents(6, e);
    expect(c.count).toBe(3);
    expect([...c.label]).toEqual([0, 1, 2, 0, 1, 0]);
  });
});
