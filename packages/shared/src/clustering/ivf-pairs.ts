// Candidate pairs through an inverted-file index: k-means lists, each face probing its nearest lists, GEMM per list.
//
// Every face has one home list (its nearest centroid) and probes its `probes` nearest lists. A pair (a, b) is scored
// when a probes b's home list or b probes a's: a within-threshold pair is missed only when both faces lie far from
// each other's lists. Tight big identities rarely do; a person with a handful of faces has no list of their own,
// their faces land in lists by chance, so a face whose nearest centroids are about as near as each other probes
// more of them (probeMargin). Measured in scripts/bench-discovery.ts. Each list is
// scored as one block, (faces probing it) × (its members), on the GEMM kernel, so the cost is n · probes · n / lists
// dot products instead of n² / 2.
import type { DotKernel } from './threshold-graph';
import { EdgeList } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';
import { gatherRows, nearestCentroids, sphericalKMeans } from './kmeans';
import { TopNeighbours } from './top-k';

export interface IvfOptions {
  /** k-means lists [n / 250, at least √n, at most 4,096]. */
  lists?: number;
  /** Most lists a face probes, its home list included [32]. */
  probes?: number;
  /** Lists a face always probes [4]. */
  minProbes?: number;
  /**
   * Beyond minProbes, a face probes a list only when its centroid is at least this similar [0.5]: a person split
   * over many lists (thousands of faces) is near all of them and probes them all, a stranger probes few.
   */
  probeSimilarity?: number;
  /**
   * Beyond minProbes, a face also probes every list whose centroid is within this much of its best one [0.02]: a face
   * no list stands out for (a person with few faces, whose neighbours land in lists by chance) searches wider.
   */
  probeMargin?: number;
  /** Rows k-means trains on [64 per list]. */
  trainSample?: number;
  seed?: number;
}

export interface IvfIndex {
  lists: number;
  probes: number;
  /** Home list of each face. */
  home: Int32Array;
  /** The lists face i probes, best first: probe[i * probes + r] (-1 past the last one). */
  probe: Int32Array;
}

/** Rows per side of one scored block: 2048 × 2048 float32 scores are 16 MB. */
const BLOCK = 2048;

/**
 * Lists of about 250 faces (n / 250, at least √n, at most 4,096): scoring costs n · probes · n / lists dot products,
 * so more, smaller lists cut it. Smaller lists than that split a person with thousands of faces over more lists than
 * a face probes. Measured (scripts/bench-discovery.ts, synthetic faces, probe margin 0.02): at 1M faces √n = 1,000
 * lists scored 58.6·10⁹ dots (margin 0.03) for pair recall 0.99949, 4,000 lists 9.0·10⁹ for 0.99921; at 100k faces
 * 316, 400 and 632 lists gave recall 0.99986, 1,265 lists 0.969 (a 7,500-face person spread over too many lists).
 */
export const FACES_PER_LIST = 250;
export const defaultLists = (n: number): number =>
  Math.max(1, Math.min(4096, Math.max(Math.round(Math.sqrt(n)), Math.round(n / FACES_PER_LIST))));
export const DEFAULT_PROBES = 32;
export const DEFAULT_MIN_PROBES = 4;
export const DEFAULT_PROBE_SIMILARITY = 0.5;
export const DEFAULT_PROBE_MARGIN = 0.02;

export async function buildIvf(m: EmbeddingMatrix, kernel: DotKernel, opts: IvfOptions = {}): Promise<IvfIndex> {
  const lists = Math.max(1, Math.min(opts.lists ?? defaultLists(m.n), m.n));
  const probes = Math.max(1, Math.min(opts.probes ?? DEFAULT_PROBES, lists));
  const centroids = await sphericalKMeans(
    m,
    { k: lists, sample: opts.trainSample ?? 64 * lists, seed: opts.seed ?? 1 },
    kernel,
  );
  const sims = new Float32Array(m.n * probes);
  const probe = await nearestCentroids(m, centroids, probes, kernel, undefined, sims);
  const home = new Int32Array(m.n);
  for (let i = 0; i < m.n; i++) home[i] = probe[i * probes]!;
  cutProbes(probe, sims, probes, {
    minProbes: opts.minProbes ?? DEFAULT_MIN_PROBES,
    floor: opts.probeSimilarity ?? DEFAULT_PROBE_SIMILARITY,
    margin: opts.probeMargin ?? DEFAULT_PROBE_MARGIN,
  });
  return { lists, probes, home, probe };
}

/**
 * Keeps of each face's ranked lists (`probes` per face, best first, with their similarities) the first `minProbes`,
 * then those at least `floor` similar or within `margin` of the best; the rest become -1 (always a suffix).
 */
export function cutProbes(
  probe: Int32Array,
  sims: Float32Array,
  probes: number,
  { minProbes, floor, margin }: { minProbes: number; floor: number; margin: number },
): void {
  for (let o = 0; o < probe.length; o += probes) {
    const bar = Math.min(floor, sims[o]! - margin);
    for (let r = minProbes; r < probes; r++) if (sims[o + r]! < bar) probe[o + r] = -1;
  }
}

/** Position of `list` among a's probes, or -1 when a does not probe it. */
export function probeSlot(index: IvfIndex, a: number, list: number): number {
  const o = a * index.probes;
  for (let r = 0; r < index.probes; r++) {
    const l = index.probe[o + r]!;
    if (l === list) return r;
    if (l < 0) break; // probes are best first, the cut ones a suffix
  }
  return -1;
}

/** True when `a` probes list `list`. */
export function probesList(index: IvfIndex, a: number, list: number): boolean {
  return probeSlot(index, a, list) >= 0;
}

/** Whether the index scores the pair (a, b) at all: the measure of its recall against the exact path. */
export function scoresPair(index: IvfIndex, a: number, b: number): boolean {
  return probesList(index, a, index.home[b]!) || probesList(index, b, index.home[a]!);
}

/** Lists as CSR: the members (home) of each list, and the faces probing it, both ascending. */
function invert(index: IvfIndex, n: number): { memberStart: Int32Array; members: Uint32Array; probeStart: Int32Array; probers: Uint32Array } {
  const { lists, probes, home, probe } = index;
  const memberStart = new Int32Array(lists + 1);
  const probeStart = new Int32Array(lists + 1);
  for (let i = 0; i < n; i++) {
    memberStart[home[i]! + 1]!++;
    for (let r = 0; r < probes; r++) {
      const l = probe[i * probes + r]!;
      if (l >= 0) probeStart[l + 1]!++;
    }
  }
  for (let l = 0; l < lists; l++) {
    memberStart[l + 1]! += memberStart[l]!;
    probeStart[l + 1]! += probeStart[l]!;
  }
  const members = new Uint32Array(n);
  const probers = new Uint32Array(probeStart[lists]!);
  const mFill = memberStart.slice(0, lists), pFill = probeStart.slice(0, lists);
  for (let i = 0; i < n; i++) {
    members[mFill[home[i]!]!++] = i;
    for (let r = 0; r < probes; r++) {
      const l = probe[i * probes + r]!;
      if (l >= 0) probers[pFill[l]!++] = i;
    }
  }
  return { memberStart, members, probeStart, probers };
}

export interface IvfPairsOptions {
  /**
   * Bounds the graph for dense blocks [0: keep every pair found]: a face keeps its `maxEdgesPerFace` most similar
   * candidates plus its most similar candidate in each list it probes, and an edge survives when either end keeps
   * it. The nearest ones carry the merges inside a person's block; the best per list keep every pair of nearby
   * blocks (two halves of a person, look-alikes) joined by some edge, so linkage can still weigh merging them, and
   * it judges every merge by the exact cluster means. At most n · (maxEdgesPerFace + probes) edges.
   */
  maxEdgesPerFace?: number;
}

/** What each face keeps when the graph is bounded: k nearest, and the best candidate of each probed list. */
class KeptNeighbours {
  readonly nearest: TopNeighbours;
  readonly bestId: Int32Array;
  readonly bestSim: Float32Array;

  constructor(private readonly index: IvfIndex, n: number, k: number) {
    this.nearest = new TopNeighbours(n, k);
    this.bestId = new Int32Array(n * index.probes).fill(-1);
    this.bestSim = new Float32Array(n * index.probes);
  }

  /** Offers b to a; `slot` is the position of b's home list among a's probes (-1: not probed by a). */
  offer(a: number, b: number, s: number, slot: number): void {
    this.nearest.offer(a, b, s);
    if (slot < 0) return;
    const o = a * this.index.probes + slot;
    // Strictly better only: of equal similarities the first offered stays (offers come in a fixed order).
    if (this.bestId[o]! < 0 || s > this.bestSim[o]!) {
      this.bestId[o] = b;
      this.bestSim[o] = s;
    }
  }

  keeps(a: number, b: number): boolean {
    if (this.nearest.has(a, b)) return true;
    const o = a * this.index.probes;
    for (let r = 0; r < this.index.probes; r++) if (this.bestId[o + r] === b) return true;
    return false;
  }

  /** Each kept edge once: from its smaller end, or from the larger when the smaller does not keep it. */
  emit(n: number, edges: EdgeList): void {
    const { probes } = this.index;
    for (let a = 0; a < n; a++) {
      const near = this.nearest.neighbours(a);
      for (const b of near) if (a < b || !this.keeps(b, a)) edges.push(a, b);
      for (let r = 0; r < probes; r++) {
        const b = this.bestId[a * probes + r]!;
        if (b < 0 || near.includes(b)) continue;
        // A face may be the best of one list for two probe slots only if lists repeat, which they do not.
        if (a < b || !this.keeps(b, a)) edges.push(a, b);
      }
    }
  }
}

/** Pairs scored by the index with dot ≥ minDot, each once (a < b), in a deterministic order. */
export async function ivfPairs(
  m: EmbeddingMatrix,
  index: IvfIndex,
  minDot: number,
  kernel: DotKernel,
  opts: IvfPairsOptions = {},
): Promise<EdgeList> {
  const { n, dim } = m;
  const { home } = index;
  const edges = new EdgeList();
  if (n < 2) return edges;
  const k = opts.maxEdgesPerFace ?? 0;
  const top = k > 0 ? new KeptNeighbours(index, n, k) : null;
  const { memberStart, members, probeStart, probers } = invert(index, n);
  const qBuf = new Float32Array(BLOCK * dim), mBuf = new Float32Array(BLOCK * dim);

  for (let list = 0; list < index.lists; list++) {
    for (let m0 = memberStart[list]!; m0 < memberStart[list + 1]!; m0 += BLOCK) {
      const mRows = members.subarray(m0, Math.min(memberStart[list + 1]!, m0 + BLOCK));
      const mb = gatherRows(m, mRows, mBuf);
      for (let q0 = probeStart[list]!; q0 < probeStart[list + 1]!; q0 += BLOCK) {
        const qRows = probers.subarray(q0, Math.min(probeStart[list + 1]!, q0 + BLOCK));
        const s = await kernel.multiply(gatherRows(m, qRows, qBuf), mb);
        const w = mRows.length;
        for (let qi = 0; qi < qRows.length; qi++) {
          const a = qRows[qi]!;
          const own = home[a] === list;
          const aSlot = own ? 0 : probeSlot(index, a, list);
          const base = qi * w;
          for (let mj = 0; mj < w; mj++) {
            const sim = s[base + mj]!;
            if (!(sim >= minDot)) continue;
            const b = mRows[mj]!;
            if (a === b) continue;
            // Exactly one of the blocks that score (a, b) emits it: in a shared list the smaller id's row; across
            // lists the visit from a into b's list, unless b also visits a's list and b is the smaller.
            const bSlot = own ? 0 : probeSlot(index, b, home[a]!);
            if (own ? a > b : a > b && bSlot >= 0) continue;
            if (top) {
              top.offer(a, b, sim, aSlot);
              top.offer(b, a, sim, bSlot);
            } else edges.push(a, b);
          }
        }
      }
    }
  }
  top?.emit(n, edges);
  return edges;
}
