// Benchmark of discovery (threshold graph + exact average linkage + gates) on synthetic 512-d face embeddings.
//
//   npx tsx scripts/bench-discovery.ts [--faces 10000,50000] [--kernel ort|js] [--threads 2] [--seed 1] [--big-identity K]
//
// --big-identity K makes the first identity K faces large: the worst case for memory (≈ K²/2 candidate pairs).
//
// Identities are random unit centres; a face is normalize(centre + N(0, σ²)) with σ chosen so two faces of one
// identity are ~0.3 apart (cosine distance) and faces of different identities ~1.0. Identity sizes vary (geometric,
// mean ~18), ~10 % of faces are noise (random directions), and ~15 % of faces share a source file with 1–3 others
// (group photos), which exercises the cannot-link constraint. Peak RSS is the process's maximum resident set.
import { getHeapStatistics } from 'node:v8';
import { DEFAULT_PARAMS, discover, jsDotKernel, createOrtDotKernel, type DiscoveryFace } from '@facesets/shared';
import { mulberry32 as rng } from '@facesets/shared/clustering/prng';
import { normalize } from '@facesets/shared/clustering/vectors';

const DIM = 512;

function gaussians(r: () => number, out: Float32Array, scale: number): void {
  for (let k = 0; k < out.length; k += 2) {
    const u = Math.sqrt(-2 * Math.log(1 - r())), v = 2 * Math.PI * r();
    out[k] = u * Math.cos(v) * scale;
    if (k + 1 < out.length) out[k + 1] = u * Math.sin(v) * scale;
  }
}

const normalizeInPlace = (v: Float32Array): Float32Array => {
  v.set(normalize(v));
  return v;
};

/** σ per component so that E[1 − x·y] ≈ 0.3 for two faces of one identity: 1/(1 + DIM σ²) = 0.7. */
const SIGMA = Math.sqrt((1 / 0.7 - 1) / DIM);

function synthesize(n: number, seed: number, bigIdentity = 0): { faces: DiscoveryFace[]; identities: number } {
  const r = rng(seed);
  const faces: DiscoveryFace[] = [];
  const noise = new Float32Array(DIM);
  let identities = 0;
  const push = (embedding: Float32Array): void => {
    const i = faces.length;
    faces.push({
      sha256: i.toString(16).padStart(64, '0'),
      faceIndex: 0,
      box: [0, 0, 200, 200],
      kps: [[60, 80], [140, 80], [100, 120], [70, 160], [130, 160]],
      detScore: 0.9,
      faceShort: 200,
      blur: 200,
      embedding,
      paths: [`/bucket/img_${i}.jpg`],
    });
  };
  const identityFaces = Math.round(n * 0.9);
  while (faces.length < identityFaces) {
    identities++;
    const centre = new Float32Array(DIM);
    gaussians(r, centre, 1);
    normalizeInPlace(centre);
    const typical = 1 + Math.floor(Math.log(1 - r()) / Math.log(1 - 1 / 18));
    const size = Math.min(identityFaces - faces.length, identities === 1 && bigIdentity > 0 ? bigIdentity : typical);
    for (let k = 0; k < size; k++) {
      gaussians(r, noise, SIGMA);
      const v = new Float32Array(DIM);
      for (let d = 0; d < DIM; d++) v[d] = centre[d]! + noise[d]!;
      push(normalizeInPlace(v));
    }
  }
  while (faces.length < n) {
    const v = new Float32Array(DIM);
    gaussians(r, v, 1);
    push(normalizeInPlace(v));
  }
  // Group photos: give a few faces the sha256 of another face (face index keeps records distinct).
  for (let i = 0; i < n; i++) {
    if (r() < 0.05) {
      const members = 1 + Math.floor(r() * 3);
      for (let k = 1; k <= members && i + k < n; k++) {
        const j = Math.floor(r() * n);
        if (faces[j]!.faceIndex !== 0 || j === i) continue;
        faces[j] = { ...faces[j]!, sha256: faces[i]!.sha256, faceIndex: k };
      }
    }
  }
  return { faces, identities };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (flag: string, def: string): string => {
    const i = args.indexOf(flag);
    return i >= 0 ? (args[i + 1] ?? def) : def;
  };
  const sizes = get('--faces', '10000,50000').split(',').map(Number);
  const kernelName = get('--kernel', 'ort');
  const threads = Number(get('--threads', '2'));
  const seed = Number(get('--seed', '1'));
  const bigIdentity = Number(get('--big-identity', '0'));
  const ort = kernelName === 'js' ? undefined : createOrtDotKernel({ threads });
  const kernel = ort ?? jsDotKernel;
  for (const n of sizes) {
    const t0 = performance.now();
    const { faces, identities } = synthesize(n, seed, bigIdentity);
    const rssBefore = process.memoryUsage().rss;
    const t1 = performance.now();
    const result = await discover(faces, DEFAULT_PARAMS, kernel);
    const t2 = performance.now();
    const mem = process.memoryUsage();
    const facesInKept = result.plans.reduce((s, p) => s + p.inputFaces, 0);
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;
    process.stdout.write(
      [
        `faces ${n} (${identities} synthetic identities + ${n - Math.round(n * 0.9)} noise), kernel ${kernel.name}, threads ${threads}`,
        `  synthesis ${((t1 - t0) / 1000).toFixed(1)} s; discovery ${((t2 - t1) / 1000).toFixed(1)} s`,
        `  raw clusters ${result.report.rawClusters}, top sizes [${result.report.topSizes.join(', ')}], kept ${result.report.clustersKept} (${facesInKept} faces), outliers ${result.report.outliersDropped}, too few sources ${result.report.tooFewSources}`,
        `  rss before ${mb(rssBefore)}, after ${mb(mem.rss)}, peak (maxRSS) ${mb(process.resourceUsage().maxRSS * 1024)}; heap used ${mb(mem.heapUsed)}, heap peak-ish ${mb(getHeapStatistics().total_heap_size)}; array buffers ${mb(mem.arrayBuffers)}`,
        '',
      ].join('\n'),
    );
  }
  await ort?.close();
}

await main();
