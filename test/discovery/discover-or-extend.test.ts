// Discovery against real fixture photos: clustering purity, export of aligned PNGs, numbering, manifest,
// coverage on re-runs, extend, crash safety and two jobs on one output root.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '@facesets/shared/clustering/discover';
import { averageLinkage } from '@facesets/shared/clustering/linkage';
import { pairsAtLeastJs } from '@facesets/shared/clustering/threshold-graph';
import { compareFaces, type DiscoveryFace, type StoredFace } from '@facesets/shared/clustering/types';
import { packEmbeddings } from '@facesets/shared/clustering/vectors';
import { EnginePool } from '@facesets/shared/engine/pool';
import { decodeImage } from '@facesets/shared/image/decode';
import { createLogger } from '@facesets/shared/logger';
import { DEFAULT_PARAMS, type JobParams } from '@facesets/shared/params';
import type { JobReport } from '@facesets/shared/report/types';
import { createInMemoryLock } from '@facesets/shared/db/locks.repository';
import { IdentityService } from '@facesets/shared/identities/identity-service';
import type { ManifestEvent } from '@facesets/shared/events/manifest-events';
import { discoverOrExtend, type DiscoverDeps, type DiscoverInput } from '../../services/cluster-worker/src/cluster.processor';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { facesOf, fixtureLabels, FIXTURES_DIR } from './fixture-faces';

const MODEL_DIR = join(import.meta.dirname, '..', '..', 'models');
/** The fixture people hold 2–5 photos each: 3 distinct sources make a set here (6 in production). */
const PARAMS: JobParams = { ...DEFAULT_PARAMS, minFaces: 3 };

let pool: EnginePool;
let work: string;
let env: TestEnv;
const labels = fixtureLabels();

beforeAll(async () => {
  env = await createTestEnv();
  pool = await EnginePool.create({ modelDir: MODEL_DIR, workers: 2, intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 1e8 });
  work = await mkdtemp(join(tmpdir(), 'discovery-test-'));
});

afterAll(async () => {
  await pool?.close();
  await env?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function bucketOf(name: string, relFiles: string[]): Promise<{ bucket: string; files: string[] }> {
  const bucket = join(work, 'buckets', name);
  const files: string[] = [];
  for (const rel of relFiles) {
    const dest = join(bucket, rel);
    await mkdir(join(dest, '..'), { recursive: true });
    await cp(join(FIXTURES_DIR, rel), dest);
    files.push(dest);
  }
  return { bucket, files };
}

const peopleFiles = (who?: (identity: string) => boolean): string[] =>
  [...labels].filter(([p, id]) => p.startsWith('people/') && (!who || who(id))).map(([p]) => p);

function depsFor(faces: DiscoveryFace[], all: () => StoredFace[], events: ManifestEvent[], lock = createInMemoryLock()): DiscoverDeps {
  const facesOfSources = async (shas: Iterable<string>) => {
    const wanted = new Set(shas);
    return all().filter((f) => wanted.has(f.sha256));
  };
  const common = {
    lock,
    publish: async (e: ManifestEvent) => void events.push(e),
    log: createLogger('discovery-test', 'silent'),
    decodeImage: (p: string) => decodeImage(p, { maxPixels: 1e8 }),
  };
  return {
    ...common,
    faces: { facesOfJobWithPaths: async () => faces.map((f) => ({ ...f })), facesOfSources },
    // Identity records live in this file's own database; face records come from memory.
    identities: new IdentityService({ ...common, db: env.db, modelPack: 'test-pack', faces: { facesOfSources }, bucketRoots: [work], outputRoots: [work] }),
  };
}

const EMPTY_SCAN: JobReport['scan'] = {
  bucket: '',
  files: { byExtension: {}, found: 0, skippedByExtension: {}, skipped: 0, aliases: 0, cached: 0, embedded: 0, noface: 0, errors: 0 },
  errorFiles: [],
  errorFilesTotal: 0,
  faces: { total: 0, perImageHistogram: {}, faceShort: { median: 0, min: 0 }, detScore: { median: 0, min: 0 }, blur: { median: 0, min: 0 } },
};

function input(jobId: string, bucket: string, outputRoot: string, mode: 'discover' | 'extend' = 'discover'): DiscoverInput {
  const report: JobReport = { jobId, mode, bucket, outputRoot, params: { ...PARAMS }, modelPack: 'test-pack', startedAt: null, finishedAt: null, scan: EMPTY_SCAN };
  return { jobId, mode, bucket, outputRoot, modelPack: 'test-pack', params: PARAMS, createdAt: '2026-04-26T12:00:00.000Z', report };
}

/** discoverOrExtend of a job that is never cancelled: its outcome, never null. */
async function runDiscovery(i: DiscoverInput, deps: DiscoverDeps) {
  const out = await discoverOrExtend(i, deps);
  if (!out) throw new Error('discoverOrExtend reported a cancellation');
  return out;
}

const readJson = async (p: string): Promise<any> => JSON.parse(await readFile(p, 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON

const identityOf = (f: { paths: string[] }): string => labels.get(f.paths[0]!.split('/buckets/')[1]!.split('/').slice(1).join('/'))!;

describe('discovery on fixture photos', () => {
  it('clusters the people/ photos one cluster per person, none mixed', async () => {
    const { files } = await bucketOf('people-only', peopleFiles());
    const faces = (await facesOf(pool, files)).sort(compareFaces);
    // The most confident face of each photo (each people/ photo shows one person).
    const best = new Map<string, DiscoveryFace>();
    for (const f of faces) if ((best.get(f.sha256)?.detScore ?? -1) < f.detScore) best.set(f.sha256, f);
    const chosen = [...best.values()];
    const m = packEmbeddings(chosen.map((f) => f.embedding));
    const clusters = averageLinkage({
      m,
      sources: chosen.map((_, i) => i),
      threshold: DEFAULT_PARAMS.clusterThreshold,
      edges: pairsAtLeastJs(m, 1 - DEFAULT_PARAMS.clusterThreshold),
    });
    const ids = clusters.map((c) => c.map((i) => identityOf(chosen[i]!)));
    for (const c of ids) expect(new Set(c).size, `mixed cluster ${c.join(',')}`).toBe(1);
    const photos = new Map<string, number>();
    for (const f of chosen) photos.set(identityOf(f), (photos.get(identityOf(f)) ?? 0) + 1);
    // One cluster per person; the model leaves at most one photo of a person apart (a singleton) at 0.55.
    const strays: string[] = [];
    for (const [identity, n] of photos) {
      if (n < 2) continue;
      const sizes = ids.filter((c) => c[0] === identity).map((c) => c.length).sort((x, y) => y - x);
      expect(sizes[0], identity).toBeGreaterThanOrEqual(n - 1);
      expect(sizes.slice(1).every((s) => s === 1), identity).toBe(true);
      if (sizes.length > 1) strays.push(identity);
    }
    expect(strays.length, `split: ${strays.join(', ')}`).toBeLessThanOrEqual(1);
    // With the production gates too, every kept cluster is one person.
    const found = await discover(faces, PARAMS);
    for (const p of found.plans) expect(new Set(p.members.map((m) => identityOf(m.face))).size).toBe(1);
    expect(found.report.clustersKept).toBeGreaterThanOrEqual(8);
  });

  describe('one output root across jobs', () => {
    let root: string;
    let tv: { bucket: string; files: string[] };
    let tvFaces: DiscoveryFace[];
    const known: StoredFace[] = [];
    const events: ManifestEvent[] = [];
    const manifestBefore = {
      version: 2,
      facesets: [{ name: 'faceset_002', path: 'faceset_002', count: 40, era: 'hand' }],
      thin_eras: [{ name: 'faceset_007', note: 'folder moved away' }],
    };

    beforeAll(async () => {
      root = join(work, 'out');
      await mkdir(join(root, '_thin', 'faceset_009'), { recursive: true });
      await writeFile(join(root, '_thin', 'faceset_009', 'faceset.json'), JSON.stringify({ name: 'faceset_009', members: [] }));
      await writeFile(join(root, 'manifest.json'), JSON.stringify(manifestBefore));
      await mkdir(join(root, '.tmp-crashedjob-c0'), { recursive: true });
      await writeFile(join(root, '.tmp-crashedjob-c0', 'half.png'), 'x');
      tv = await bucketOf('tv', peopleFiles((id) => ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'].includes(id)));
      tvFaces = await facesOf(pool, tv.files);
      known.push(...tvFaces);
    });

    it('a crash during export leaves no faceset folder and no manifest change', async () => {
      const deps = depsFor(tvFaces, () => known, events);
      // isCancelled is asked after the crops are written and before any set is moved into place.
      deps.isCancelled = async () => {
        throw new Error('injected crash after the crops were written');
      };
      await expect(runDiscovery(input('job-crash', tv.bucket, root), deps)).rejects.toThrow(/injected crash/);
      const names = await readdir(root);
      expect(names.filter((n) => n.startsWith('faceset_'))).toEqual([]);
      expect(names.filter((n) => n.startsWith('.tmp-job-crash'))).toEqual([]);
      expect(await readJson(join(root, 'manifest.json'))).toEqual(manifestBefore);
      expect(events).toEqual([]);
      // The same when the process fails half-way through the crops (some PNGs already written).
      let decodes = 0;
      const failing = depsFor(tvFaces, () => known, events);
      failing.decodeImage = async (p) => {
        if (++decodes === 5) throw new Error('injected failure while decoding');
        return decodeImage(p, { maxPixels: 1e8 });
      };
      await expect(runDiscovery(input('job-crash2', tv.bucket, root), failing)).rejects.toThrow(/injected failure/);
      expect((await readdir(root)).filter((n) => n.startsWith('faceset_') || n.startsWith('.tmp-job'))).toEqual([]);
      expect(await readJson(join(root, 'manifest.json'))).toEqual(manifestBefore);
    });

    it('exports new sets numbered after every used number, with aligned PNGs, member lists and a report', async () => {
      const base: JobReport = {
        jobId: 'job-1', mode: 'discover', bucket: tv.bucket, outputRoot: root, params: { ...PARAMS }, modelPack: 'test-pack',
        startedAt: null, finishedAt: null,
        scan: {
          bucket: tv.bucket,
          files: { byExtension: { '.png': 40 }, found: 40, skippedByExtension: {}, skipped: 0, aliases: 0, cached: 0, embedded: 40, noface: 0, errors: 0 },
          errorFiles: [],
          errorFilesTotal: 0,
          faces: { total: tvFaces.length, perImageHistogram: { '1': 40 }, faceShort: { median: 130, min: 80 }, detScore: { median: 1, min: 0.99 }, blur: { median: 450, min: 43 } },
        },
      };
      const out = await runDiscovery({ ...input('job-1', tv.bucket, root), report: base }, depsFor(tvFaces, () => known, events));
      expect(out.discovery).not.toBeNull();
      const d = out.discovery!;
      expect(out.coverage.covered).toBe(0);
      expect(d.clustersKept).toBe(8);
      const named = d.facesets.filter((f) => f.name);
      // faceset_002 (folder gone), faceset_007 (manifest only) and _thin/faceset_009 are taken: numbering starts at 010.
      expect(named.map((f) => f.name)).toEqual(named.map((_, i) => `faceset_${String(10 + i).padStart(3, '0')}`));
      expect(out.added).toEqual(named.map((f) => f.name));
      for (let i = 1; i < d.facesets.length; i++) expect(d.facesets[i - 1]!.inputFaces).toBeGreaterThanOrEqual(d.facesets[i]!.inputFaces);
      expect(await readdir(root)).not.toContain('.tmp-crashedjob-c0'); // stale temp of the crashed run is gone

      const manifest = await readJson(join(root, 'manifest.json'));
      expect(manifest.version).toBe(2);
      expect(manifest.facesets[0]).toEqual(manifestBefore.facesets[0]);
      expect(manifest.thin_eras[0]).toEqual(manifestBefore.thin_eras[0]);
      const entries = [...manifest.facesets.slice(1), ...manifest.thin_eras.slice(1)];
      expect(entries.map((e: { name: string }) => e.name).sort()).toEqual(named.map((f) => f.name).sort());

      for (const set of named) {
        const dir = join(root, set.path!);
        const entry = entries.find((e: { name: string }) => e.name === set.name);
        expect(entry).toEqual({ name: set.name, path: set.path, count: set.exported, source: tv.bucket, jobId: 'job-1', createdAt: '2026-04-26T12:00:00.000Z' });
        expect(set.path).toBe(set.thin ? `_thin/${set.name}` : set.name);
        expect(set.thin).toBe(set.exported < PARAMS.thinBelow);
        const file = await readJson(join(dir, 'faceset.json'));
        expect(Object.keys(file)).toEqual(['name', 'source', 'jobId', 'createdAt', 'params', 'members']);
        expect(file).toMatchObject({ name: set.name, source: tv.bucket, jobId: 'job-1', params: { minFaces: 3 } });
        expect(file.members).toHaveLength(set.exported);
        const pngs = (await readdir(dir)).filter((n) => n.endsWith('.png')).sort();
        expect(pngs).toEqual(file.members.map((m: { png: string }) => m.png).sort());
        expect(await readFile(join(dir, 'tv.txt'), 'utf8')).toContain(`bucket: ${tv.bucket}\njob: job-1\n`);
        const identities = new Set<string>();
        for (const m of file.members) {
          expect(Object.keys(m)).toEqual(['png', 'sources', 'sha256', 'box', 'kps', 'detScore', 'faceShort', 'blur', 'distance', 'pose']);
          expect(m.png).toMatch(new RegExp(`^${basename(m.sources[0]).replace(/\.png$/, '')}_${m.sha256.slice(0, 8)}_\\d+\\.png$`));
          expect(m.faceShort).toBeGreaterThanOrEqual(PARAMS.exportMinFaceShort);
          expect(m.distance).toBeLessThanOrEqual(PARAMS.exportOutlierThreshold);
          identities.add(identityOf({ paths: m.sources }));
          const meta = await sharp(join(dir, m.png)).metadata();
          expect([meta.width, meta.height, meta.format]).toEqual([512, 512, 'png']);
        }
        expect(identities.size).toBe(1);
        // The crop shows the face, centred: the engine finds it again near the middle with nearly the same embedding.
        const first = file.members[0];
        const again = await pool.process(join(dir, first.png));
        if (!again.ok) throw new Error(again.error);
        const original = tvFaces.find((f) => f.sha256 === first.sha256 && Math.abs(f.box[0] - first.box[0]) < 1)!;
        const face = again.faces.reduce((a, b) => (b.detScore > a.detScore ? b : a));
        let s = 0;
        for (let k = 0; k < 512; k++) s += face.embedding[k]! * original.embedding[k]!;
        expect(1 - s).toBeLessThan(0.3);
        const cx = (face.box[0] + face.box[2]) / 2, cy = (face.box[1] + face.box[3]) / 2;
        expect(Math.abs(cx - 256)).toBeLessThan(40);
        expect(Math.abs(cy - 256)).toBeLessThan(60);
        // Contact sheet linked from the report.
        expect(set.contactSheet).toBe(`_reports/job-1/${set.name}.png`);
        expect((await stat(join(root, set.contactSheet!))).size).toBeGreaterThan(0);
      }
      const md = await readFile(join(root, '_reports', 'job-1.md'), 'utf8');
      expect(md).toContain('## 4. Discovery');
      for (const set of named) expect(md).toContain(`(job-1/${set.name}.png)`);
      expect(events).toEqual([{ outputRoot: root, jobId: 'job-1', added: out.added, extended: [] }]);
      expect((await readdir(root)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    });

    it('a second job over the same photos finds them covered and adds nothing', async () => {
      const before = await readFile(join(root, 'manifest.json'), 'utf8');
      const out = await runDiscovery(input('job-2', tv.bucket, root), depsFor(tvFaces, () => known, events));
      const exported = (await readJson(join(root, 'manifest.json'))).facesets.length;
      expect(exported).toBeGreaterThan(1);
      expect(out.added).toEqual([]);
      expect(out.coverage.identities.map((i) => i.name)).toContain('faceset_010');
      expect(out.coverage.covered).toBeGreaterThanOrEqual(30);
      expect(out.coverage.identities.find((i) => i.name === 'faceset_009')).toMatchObject({ members: 0, matched: 0 });
      expect(await readFile(join(root, 'manifest.json'), 'utf8')).toBe(before);
    });

    it('extend adds routed faces of new photos to the existing sets and updates their counts', async () => {
      // Copies of the sets' own photos with a changed byte: new sources with the same faces.
      const fresh = await bucketOf('tv-more', ['people/amy/amy2.png', 'people/raj/raj2.png', 'people/sheldon/sheldon2.png']);
      for (const f of fresh.files) await writeFile(f, Buffer.concat([await readFile(f), Buffer.from('extra')]));
      const faces = await facesOf(pool, fresh.files);
      const out = await runDiscovery(input('job-3', fresh.bucket, root, 'extend'), depsFor(faces, () => known, events));
      expect(out.discovery).toBeNull();
      expect(out.coverage.covered).toBe(3);
      expect(out.extended.length).toBe(3);
      const manifest = await readJson(join(root, 'manifest.json'));
      for (const name of out.extended) {
        const entry = [...manifest.facesets, ...manifest.thin_eras].find((e: { name: string }) => e.name === name);
        const file = await readJson(join(root, entry.path, 'faceset.json'));
        expect(entry.count).toBe(file.members.length);
        const last = file.members.at(-1);
        expect(last.sources[0]).toContain('/tv-more/');
        expect((await readdir(join(root, entry.path))).filter((n) => n.endsWith('.png'))).toHaveLength(file.members.length);
      }
      expect(out.coverage.identities.filter((i) => i.extendedWith).map((i) => i.name).sort()).toEqual([...out.extended].sort());
      expect(events.at(-1)).toEqual({ outputRoot: root, jobId: 'job-3', added: [], extended: out.extended });
    });
  });

  it('two jobs on one output root at once take distinct numbers and both reach the manifest', async () => {
    const root = join(work, 'out-concurrent');
    const a = await bucketOf('a', peopleFiles((id) => ['amy', 'howard'].includes(id)));
    const b = await bucketOf('b', peopleFiles((id) => ['penny', 'sheldon'].includes(id)));
    const [fa, fb] = await Promise.all([facesOf(pool, a.files), facesOf(pool, b.files)]);
    const all = [...fa, ...fb];
    const lock = createInMemoryLock();
    const events: ManifestEvent[] = [];
    const [ra, rb] = await Promise.all([
      runDiscovery(input('job-a', a.bucket, root), depsFor(fa, () => all, events, lock)),
      runDiscovery(input('job-b', b.bucket, root), depsFor(fb, () => all, events, lock)),
    ]);
    const names = [...ra.added, ...rb.added].sort();
    expect(names).toEqual(['faceset_001', 'faceset_002', 'faceset_003', 'faceset_004']);
    const manifest = await readJson(join(root, 'manifest.json'));
    const listed = [...manifest.facesets, ...manifest.thin_eras].map((e: { name: string; jobId: string }) => `${e.name}:${e.jobId}`).sort();
    expect(listed).toEqual([...ra.added.map((n) => `${n}:job-a`), ...rb.added.map((n) => `${n}:job-b`)].sort());
  });
});
