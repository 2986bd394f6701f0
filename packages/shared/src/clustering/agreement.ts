// How far two clusterings of the same faces agree: pairwise precision, recall and F (pairs put together by both).

/** Cluster label per face from row lists; faces in no list get their own singleton label. */
export function labelsOf(n: number, clusters: readonly (readonly number[])[]): Int32Array {
  const label = new Int32Array(n).fill(-1);
  clusters.forEach((rows, c) => {
    for (const i of rows) label[i] = c;
  });
  let next = clusters.length;
  for (let i = 0; i < n; i++) if (label[i] === -1) label[i] = next++;
  return label;
}

const pairs = (k: number): number => (k * (k - 1)) / 2;

function pairCount(counts: Map<number, number>): number {
  let s = 0;
  for (const c of counts.values()) s += pairs(c);
  return s;
}

/**
 * Pairwise agreement of `found` with `reference` (two labellings of the same rows): precision = shared pairs /
 * pairs in found, recall = shared pairs / pairs in reference, F their harmonic mean (1 when neither has a pair).
 */
export function pairwiseAgreement(reference: Int32Array, found: Int32Array): { precision: number; recall: number; f: number } {
  if (reference.length !== found.length) throw new Error(`pairwiseAgreement: ${reference.length} vs ${found.length} rows`);
  const ref = new Map<number, number>(), fnd = new Map<number, number>(), both = new Map<number, number>();
  const bump = (m: Map<number, number>, k: number): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < reference.length; i++) {
    bump(ref, reference[i]!);
    bump(fnd, found[i]!);
    bump(both, reference[i]! * 2 ** 26 + found[i]!);
  }
  const shared = pairCount(both), inRef = pairCount(ref), inFound = pairCount(fnd);
  const precision = inFound ? shared / inFound : 1;
  const recall = inRef ? shared / inRef : 1;
  const f = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f };
}
