// Each row's k most similar neighbours, as one fixed-size min-heap per row in flat typed arrays (no per-row objects).

export class TopNeighbours {
  readonly ids: Uint32Array;
  readonly sims: Float32Array;
  readonly count: Uint16Array;

  constructor(readonly n: number, readonly k: number) {
    if (k < 1 || k > 65535) throw new Error(`TopNeighbours: k must be 1..65535, got ${k}`);
    this.ids = new Uint32Array(n * k);
    this.sims = new Float32Array(n * k);
    this.count = new Uint16Array(n);
  }

  /**
   * Offers neighbour j with similarity s to row i; kept while it is among i's k best. Of equal similarities the
   * one offered first stays, so the result depends only on the offer order (deterministic for a fixed order).
   */
  offer(i: number, j: number, s: number): void {
    const { k, ids, sims } = this;
    const base = i * k;
    const c = this.count[i]!;
    if (c < k) {
      // Sift up.
      let pos = c;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!(sims[base + parent]! > s)) break;
        sims[base + pos] = sims[base + parent]!;
        ids[base + pos] = ids[base + parent]!;
        pos = parent;
      }
      sims[base + pos] = s;
      ids[base + pos] = j;
      this.count[i] = c + 1;
      return;
    }
    if (!(s > sims[base]!)) return;
    // Replace the root (the weakest kept) and sift down.
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= k) break;
      const r = l + 1;
      const m = r < k && sims[base + r]! < sims[base + l]! ? r : l;
      if (!(sims[base + m]! < s)) break;
      sims[base + pos] = sims[base + m]!;
      ids[base + pos] = ids[base + m]!;
      pos = m;
    }
    sims[base + pos] = s;
    ids[base + pos] = j;
  }

  has(i: number, j: number): boolean {
    const base = i * this.k;
    const c = this.count[i]!;
    for (let t = 0; t < c; t++) if (this.ids[base + t] === j) return true;
    return false;
  }

  /** Row i's kept neighbours (unordered). */
  neighbours(i: number): Uint32Array {
    return this.ids.subarray(i * this.k, i * this.k + this.count[i]!);
  }
}
