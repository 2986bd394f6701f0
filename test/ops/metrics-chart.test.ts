// The chart's PromQL look-alikes on hand-checkable exposition text: sample sums by label, histogram_quantile.
import { describe, expect, it } from 'vitest';
import { parseExposition, pick, quantile } from '../../scripts/metrics-chart';

const before = parseExposition(
  [
    '# HELP facesets_files_total x',
    'facesets_files_total{result="face"} 10',
    'facesets_files_total{result="noface"} 2',
    'h_bucket{model="a",le="0.1"} 0',
    'h_bucket{model="a",le="0.2"} 0',
    'h_bucket{model="a",le="+Inf"} 0',
  ].join('\n'),
  0,
);
// 10 observations since `before`: 4 at most 0.1, 6 more at most 0.2, none above.
const after = parseExposition(
  ['facesets_files_total{result="face"} 30', 'h_bucket{model="a",le="0.1"} 4', 'h_bucket{model="a",le="0.2"} 10', 'h_bucket{model="a",le="+Inf"} 10'].join('\n'),
  1,
);

describe('metrics chart arithmetic', () => {
  it('sums the samples whose labels match', () => {
    expect(pick(before, 'facesets_files_total')).toBe(12);
    expect(pick(before, 'facesets_files_total', { result: 'noface' })).toBe(2);
    expect(pick(after, 'facesets_files_total', { result: 'error' })).toBe(0);
  });

  it('interpolates quantiles inside buckets as histogram_quantile does', () => {
    // rank 5 of 10: the second bucket (4 → 10), one sixth into 0.1..0.2.
    expect(quantile(0.5, before, after, 'h', { model: 'a' })).toBeCloseTo(0.1 + 0.1 / 6, 10);
    // rank 2: half-way through the first bucket, which starts at 0.
    expect(quantile(0.2, before, after, 'h', { model: 'a' })).toBeCloseTo(0.05, 10);
    expect(quantile(0.5, before, before, 'h', { model: 'a' })).toBeNull();
  });
});
