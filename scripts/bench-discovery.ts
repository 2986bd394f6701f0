// Benchmark of discovery (candidate pairs + exact average linkage + gates + outliers) on synthetic face embeddings.
//
//   npm run bench:discovery -- [--faces 100000,1000000] [--exact-max 200000] [--threads 2] [--seed 1]
//                              [--lists L] [--probes P] [--max-edges K] [--exact-below N] [--real DIR]
//
// Each size runs in its own child process (so peak RSS is that size's alone) and ends with one JSON line
//   {"faces":N,"seconds":S,"peakRssMb":M,"pairRecall":R,"pairwiseF":F}
// seconds and peakRssMb cover discovery alone (synthesis excluded, the process's own baseline included).
// pairRecall: share of the pairs within clusterThreshold that the candidate index scores; pairwiseF: agreement of
// the final clusters (after gates and outliers) with the exact path (all pairs, no edge bound). Up to --exact-max
// faces both are measured against the full exact path; above it against samples: recall over the
// exact neighbours (brute force: 500 random faces), F over random whole candidate-graph components of ≤ 5,000
// faces until 30,000 faces, re-clustered by the exact path on their own (exact as long as no missed pair leaves the
// sample, which the recall bounds).
//
// Shape: identity sizes from a Pareto tail (α 1.3, 2..2,000), a few identities of 5,000+ faces, 20 % of faces from
// people seen once, 5 % noise (random directions, poor quality), 5 % of identities "siblings" of another (centres
// ~0.45 apart, so their faces sit near the threshold), a shared mean direction (different people ≈ 0.8 apart as
// with real embeddings, not the 1.0 of random directions), per-identity spread (same-person distance 0.2–0.4),
// group photos (faces sharing a source: the cannot-link), and faceShort/blur/detScore spread so the gates bite.
// --real DIR uses the fixtures' embeddings (DIR/*.json written by `facesets embed`, or test/discovery fixtures)
// as identity centres instead of random ones.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { DEFAULT_PARAMS, createOrtDotKernel, type DotKernel } from '@facesets/shared';
import { labelsOf, pairwiseAgreement } from '@facesets/shared/clustering/agreement';
import type { CandidateOptions } from '@facesets/shared/clustering/candidates';
import { connectedComponents } from '@facesets/shared/clustering/components';
import { discoverTable, type TableDiscovery } from '@facesets/shared/clustering/discover-table';
import { allocateFaceTable, type FaceTable } from '@facesets/shared/clustering/face-table';
import { scoresPair, type IvfIndex } from '@facesets/shared/clustering/ivf-pairs';
import { gatherRows, sampleRows } from '@facesets/shared/clustering/kmeans';
import { mulberry32 } from '@facesets/shared/clustering/prng';
import { normalizeInPlace } from '@facesets/shared/clustering/vectors';
import type { EdgeList } from '@facesets/shared/clustering/threshold-graph';
import { loadRealFaces, type RealFaces } from './bench-real-centres';

const DIM = 512;
const args = process.argv.slice(2);
const get = (flag: string, def: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};

function gaussians(r: () => number, out: Float32Array, scale: number): void {
  for (let k = 0; k < out.length; k += 2) {
    const u = Math.sqrt(-2 * Math.log(1 - r())), v = 2 * Math.PI * r();
    out[k] = u * Math.cos(v) * scale;
    if (k + 1 < out.length) out[k + 1] = u * Math.sin(v) * scale;
  }
}

/** σ per component for an expected same-person cosine distance d: E[x·y] ≈ 1/(1 + DIM σ²) = 1 − d. */
const sigmaFor = (d: number): number => Math.sqrt((1 / (1 - d) - 1) / DIM);

/** Identity sizes: a few big ones, then a Pareto tail, until `target` faces. */
function identitySizes(n: number, target: number, r: () => number): number[] {
  const sizes: number[] = [];
  const bigCount = n >= 50_000 ? Math.max(1, Math.round(Math.log2(n / 25_000))) : 1;
  for (let b = 0; b < bigCount; b++) sizes.push(Math.min(Math.round(target / 4 / bigCount), 5_000 + 2_500 * b));
  let total = sizes.reduce((s, x) => s + x, 0);
  while (total < target) {
    const s = Math.min(2_000, Math.floor(2 * Math.pow(1 - r(), -1 / 1.3)), target - total);
    sizes.push(s);
    total += s;
  }
  return sizes;
}

interface Synthetic {
  table: FaceTable;
  identities: number;
  noise: number;
  once: number;
}

function synthesize(n: number, seed: number, realCentres: Float32Array[] | null): Synthetic {
  const r = mulberry32(seed);
  const t = allocateFaceTable(n, DIM);
  const mean = new Float32Array(DIM);
  gaussians(r, mean, 1);
  normalizeInPlace(mean);
  const centre = new Float32Array(DIM), noise = new Float32Array(DIM), random = new Float32Array(DIM);
  const centres: Float32Array[] = [];
  let row = 0;
  /** Synthetic person of each row (-1 noise): a group photo never shows one person twice. */
  const person = new Int32Array(n).fill(-1);
  let people = 0;
  const quality = (poor: boolean): void => {
    t.faceShort[row] = Math.round(Math.exp(Math.log(poor ? 70 : 160) + 0.45 * gaussianOf(r)));
    t.blur[row] = Math.exp(Math.log(poor ? 30 : 110) + 0.6 * gaussianOf(r));
    t.detScore[row] = Math.min(0.999, (poor ? 0.45 : 0.7) + 0.3 * r());
    t.box.set([0, 0, t.faceShort[row]!, t.faceShort[row]!], row * 4);
  };
  const face = (c: Float32Array, sigma: number, poor = false): void => {
    gaussians(r, noise, sigma);
    const v = t.embeddings.data.subarray(row * DIM, (row + 1) * DIM);
    for (let d = 0; d < DIM; d++) v[d] = c[d]! + noise[d]!;
    normalizeInPlace(v);
    quality(poor);
    if (!poor) person[row] = people;
    row++;
  };
  const newCentre = (): Float32Array => {
    if (realCentres) {
      // Half a real face's direction plus a random one: centres sharing a real face are still ~0.8 apart (different
      // people), and all keep the real embeddings' common structure.
      const base = realCentres[Math.floor(r() * realCentres.length)]!;
      gaussians(r, centre, 1);
      normalizeInPlace(centre);
      for (let d = 0; d < DIM; d++) centre[d] = centre[d]! + 0.5 * base[d]!;
    } else if (centres.length > 4 && r() < 0.05) {
      // A sibling: centre ~0.45 from an existing one.
      const base = centres[Math.floor(r() * centres.length)]!;
      gaussians(r, centre, sigmaFor(0.45));
      for (let d = 0; d < DIM; d++) centre[d]! += base[d]!;
    } else {
      gaussians(r, centre, 1);
      normalizeInPlace(centre);
      for (let d = 0; d < DIM; d++) centre[d] = 0.9 * centre[d]! + 0.45 * mean[d]!;
    }
    return normalizeInPlace(centre);
  };

  const noiseFaces = Math.round(n * 0.05), onceFaces = Math.round(n * 0.2);
  const sizes = identitySizes(n, n - noiseFaces - onceFaces, r);
  for (const size of sizes) {
    const c = newCentre();
    if (centres.length < 20_000) centres.push(Float32Array.from(c));
    const sigma = sigmaFor(0.2 + 0.2 * r());
    for (let k = 0; k < size; k++) face(c, sigma);
    people++;
  }
  for (let k = 0; k < onceFaces; k++, people++) face(newCentre(), sigmaFor(0.3));
  for (let k = 0; k < noiseFaces; k++) {
    gaussians(r, random, 1);
    face(normalizeInPlace(random), 0, true);
  }
  // Shuffle rows (identities must not sit in contiguous blocks), then name sources in row order so the table
  // stays sorted by (sha256, faceIndex); ~5 % of sources are group photos of 2–4 faces.
  shuffleRows(t, person, r);
  let source = 0;
  for (let i = 0; i < n; ) {
    const faces = r() < 0.05 ? 2 + Math.floor(r() * 3) : 1;
    const start = i;
    for (let k = 0; k < faces && i < n; k++, i++) {
      if (k > 0 && person[i]! >= 0 && person.subarray(start, i).includes(person[i]!)) break;
      t.source[i] = source;
      t.faceIndex[i] = k;
    }
    t.shas.push(source.toString(16).padStart(64, '0'));
    source++;
  }
  return { table: t, identities: sizes.length + onceFaces, noise: noiseFaces, once: onceFaces };
}

function gaussianOf(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function shuffleRows(t: FaceTable, person: Int32Array, r: () => number): void {
  const tmp = new Float32Array(DIM);
  const swap = (a: Float32Array, w: number, i: number, j: number): void => {
    for (let k = 0; k < w; k++) {
      const x = a[i * w + k]!;
      a[i * w + k] = a[j * w + k]!;
      a[j * w + k] = x;
    }
  };
  for (let i = t.n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const e = t.embeddings.data;
    tmp.set(e.subarray(i * DIM, (i + 1) * DIM));
    e.copyWithin(i * DIM, j * DIM, (j + 1) * DIM);
    e.set(tmp, j * DIM);
    swap(t.box, 4, i, j);
    swap(t.detScore, 1, i, j);
    swap(t.faceShort, 1, i, j);
    swap(t.blur, 1, i, j);
    [person[i], person[j]] = [person[j]!, person[i]!];
  }
}

/** Final clusters as labels: members of kept plans (after export gates) share their plan's label. */
const finalLabels = (n: number, d: TableDiscovery, rows?: Int32Array): Int32Array => {
  const clusters = d.plans.map((p) => p.members.map((m) => (rows ? rows[m.row]! : m.row)));
  return labelsOf(n, clusters);
};

const within = (m: FaceTable['embeddings'], a: number, b: number, threshold: number): boolean => {
  let s = 0;
  const oa = a * m.dim, ob = b * m.dim;
  for (let k = 0; k < m.dim; k++) s += m.data[oa + k]! * m.data[ob + k]!;
  return 1 - s <= threshold;
};

/** Exact-path recall and F: all pairs, unbounded. */
async function againstExact(t: FaceTable, found: TableDiscovery, index: IvfIndex | null, kernel: DotKernel) {
  const threshold = DEFAULT_PARAMS.clusterThreshold;
  let exactEdges: EdgeList | null = null;
  const exact = await discoverTable(t, DEFAULT_PARAMS, kernel, {
    exactBelow: Infinity,
    onCandidates: (c) => void (exactEdges = c.edges),
  });
  let inThreshold = 0, scored = 0;
  const e = exactEdges as EdgeList | null;
  if (e) {
    for (let k = 0; k < e.length; k++) {
      const a = e.a[k]!, b = e.b[k]!;
      if (!within(t.embeddings, a, b, threshold)) continue;
      inThreshold++;
      if (!index || scoresPair(index, a, b)) scored++;
    }
  }
  const f = pairwiseAgreement(finalLabels(t.n, exact), finalLabels(t.n, found)).f;
  return { pairRecall: inThreshold ? scored / inThreshold : 1, pairwiseF: f, exactPairs: inThreshold, exactTopSizes: exact.report.topSizes, exactKept: exact.report.clustersKept };
}

/** Sampled recall and F for sizes where the exact path is unaffordable. */
async function againstSamples(t: FaceTable, found: TableDiscovery, edges: EdgeList, index: IvfIndex | null, kernel: DotKernel, seed: number) {
  const threshold = DEFAULT_PARAMS.clusterThreshold;
  // Recall: every exact neighbour of 500 random faces, by brute force against all rows.
  const sample = sampleRows(t.n, 500, seed + 7);
  const q = gatherRows(t.embeddings, sample);
  let inThreshold = 0, scored = 0;
  const BLOCK = 8192;
  for (let j0 = 0; j0 < t.n; j0 += BLOCK) {
    const j1 = Math.min(t.n, j0 + BLOCK);
    const block = { data: t.embeddings.data.subarray(j0 * DIM, j1 * DIM), n: j1 - j0, dim: DIM };
    const s = await kernel.multiply(q, block);
    for (let i = 0; i < sample.length; i++) {
      const a = sample[i]!;
      for (let j = j0; j < j1; j++) {
        if (j === a || s[i * (j1 - j0) + j - j0]! < 1 - threshold - 1e-3 || !within(t.embeddings, a, j, threshold)) continue;
        inThreshold++;
        if (!index || scoresPair(index, a, j)) scored++;
      }
    }
  }
  // F: whole components of the candidate graph, in a seeded random order, until 50,000 faces.
  const comp = connectedComponents(t.n, edges);
  const size = new Int32Array(comp.count);
  for (let i = 0; i < t.n; i++) size[comp.label[i]!]!++;
  const order = sampleRows(comp.count, comp.count, seed + 11);
  const r = mulberry32(seed + 12);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const chosen = new Uint8Array(comp.count);
  let faces = 0;
  for (const c of order) {
    if (faces >= 30_000) break;
    // The exact path on one 15,000-face block alone needs ~10⁸ edges: the full exact comparison at 100k covers those.
    if (size[c]! > 5_000) continue;
    chosen[c] = 1;
    faces += size[c]!;
  }
  const rows: number[] = [];
  for (let i = 0; i < t.n; i++) if (chosen[comp.label[i]!]) rows.push(i);
  const sub = subTable(t, rows);
  const exact = await discoverTable(sub, DEFAULT_PARAMS, kernel, { exactBelow: Infinity });
  const position = new Int32Array(t.n).fill(-1);
  rows.forEach((row, k) => (position[row] = k));
  const foundSub = found.plans.map((p) => p.members.filter((m) => position[m.row]! >= 0).map((m) => position[m.row]!));
  const f = pairwiseAgreement(finalLabels(rows.length, exact), labelsOf(rows.length, foundSub)).f;
  return { pairRecall: inThreshold ? scored / inThreshold : 1, pairwiseF: f, sampledPairs: inThreshold, sampledFaces: rows.length };
}

function subTable(t: FaceTable, rows: number[]): FaceTable {
  const s = allocateFaceTable(rows.length, DIM);
  s.embeddings = gatherRows(t.embeddings, rows);
  const srcIndex = new Map<number, number>();
  rows.forEach((i, k) => {
    let id = srcIndex.get(t.source[i]!);
    if (id === undefined) {
      srcIndex.set(t.source[i]!, (id = s.shas.length));
      s.shas.push(t.shas[t.source[i]!]!);
    }
    s.source[k] = id;
    s.faceIndex[k] = t.faceIndex[i]!;
    s.box.set(t.box.subarray(i * 4, i * 4 + 4), k * 4);
    s.detScore[k] = t.detScore[i]!;
    s.faceShort[k] = t.faceShort[i]!;
    s.blur[k] = t.blur[i]!;
  });
  return s;
}

/** The real fixture faces themselves, through the index (8 lists, so it has something to miss) and the exact path. */
async function fixturesThemselves(real: RealFaces, kernel: DotKernel): Promise<void> {
  const n = real.embeddings.length;
  const t = allocateFaceTable(n, DIM);
  real.embeddings.forEach((e, i) => {
    t.embeddings.data.set(e, i * DIM);
    t.source[i] = i;
    t.shas.push(i.toString(16).padStart(64, '0'));
    t.faceShort[i] = 200;
    t.blur[i] = 100;
    t.detScore[i] = 0.9;
  });
  let index: IvfIndex | null = null;
  const found = await discoverTable(t, DEFAULT_PARAMS, kernel, { exactBelow: 0, lists: 8, minProbes: 2, onCandidates: (c) => void (index = c.index) });
  const q = await againstExact(t, found, index, kernel);
  process.stdout.write(`fixture faces themselves (${n} faces, 8 lists): ${JSON.stringify(q)}\n`);
}

async function runOne(n: number): Promise<void> {
  const seed = Number(get('--seed', '1'));
  const exactMax = Number(get('--exact-max', '200000'));
  const kernel = createOrtDotKernel({ threads: Number(get('--threads', '2')) });
  const realDir = get('--real', '');
  const t0 = performance.now();
  const real = realDir ? await loadRealFaces(realDir) : null;
  if (real) await fixturesThemselves(real, kernel);
  const syn = synthesize(n, seed, real ? real.embeddings : null);
  const t1 = performance.now();
  const opts: CandidateOptions = {};
  for (const [flag, key] of [['--lists', 'lists'], ['--probes', 'probes'], ['--max-edges', 'maxEdgesPerFace'], ['--exact-below', 'exactBelow']] as const) {
    if (args.includes(flag)) opts[key] = Number(get(flag, '0'));
  }
  // Peak RSS of discovery alone: let the synthesis garbage go, then reset the kernel's high-water mark (VmHWM).
  (globalThis as { gc?: () => void }).gc?.();
  await writeFile('/proc/self/clear_refs', '5').catch(() => undefined);
  let edges: EdgeList | null = null, index: IvfIndex | null = null;
  let candidateSeconds = 0;
  const found = await discoverTable(syn.table, DEFAULT_PARAMS, kernel, {
    ...opts,
    onCandidates: (c) => {
      edges = c.edges;
      index = c.index;
      candidateSeconds = (performance.now() - t1) / 1000;
    },
  });
  const seconds = (performance.now() - t1) / 1000;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(await readFile('/proc/self/status', 'utf8').catch(() => ''));
  const peakRssMb = Math.round((hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024) / 2 ** 20);
  process.stdout.write(`  discovery alone: ${seconds.toFixed(1)} s, peak RSS ${peakRssMb} MB\n`);
  const kept = found.plans.reduce((s, p) => s + p.inputFaces, 0);
  process.stdout.write(
    `faces ${n}: ${syn.identities} identities (${syn.once} seen once) + ${syn.noise} noise; synthesis ${((t1 - t0) / 1000).toFixed(1)} s\n` +
      `  discovery ${seconds.toFixed(1)} s (candidates ${candidateSeconds.toFixed(1)} s, ${(edges as EdgeList | null)?.length ?? 0} edges, ` +
      `${index ? `index ${(index as IvfIndex).lists} lists × ${(index as IvfIndex).probes} probes` : 'all pairs'}); raw clusters ${found.report.rawClusters}, ` +
      `top sizes [${found.report.topSizes.join(', ')}], kept ${found.report.clustersKept} (${kept} faces)\n`,
  );
  const e0 = performance.now();
  const quality = n <= exactMax
    ? await againstExact(syn.table, found, index, kernel)
    : await againstSamples(syn.table, found, edges!, index, kernel, seed);
  process.stdout.write(`  evaluation ${((performance.now() - e0) / 1000).toFixed(1)} s: ${JSON.stringify(quality)}\n`);
  await kernel.close();
  const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
  process.stdout.write(
    JSON.stringify({ faces: n, seconds: round(seconds, 1), peakRssMb, pairRecall: round(quality.pairRecall, 5), pairwiseF: round(quality.pairwiseF, 5) }) + '\n',
  );
}

if (args.includes('--one')) {
  await runOne(Number(get('--faces', '10000')));
} else {
  // One child process per size: each size's peak RSS is its own.
  const sizes = get('--faces', '10000,50000').split(',').map(Number);
  const rest = args.filter((_, i) => args[i] !== '--faces' && args[i - 1] !== '--faces');
  for (const n of sizes) {
    const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', process.argv[1]!, ...rest, '--faces', String(n), '--one'], {
      stdio: 'inherit',
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=3072`.trim() },
    });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
}
