// Coverage, discovery, export, manifest and report of one discover/extend job against its output root.
import { mkdir, readFile, realpath, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@facesets/shared/discovery/atomic-write';
import { identityCentroid, matchMembers, routeFaces, type MemberKey } from '@facesets/shared/discovery/coverage';
import { discover } from '@facesets/shared/discovery/discover';
import { FACESET_FILE, facesetMember, serializeFaceset } from '@facesets/shared/discovery/faceset-file';
import { applyGates } from '@facesets/shared/discovery/gates';
import { appendEntries, manifestNames, readManifest, setEntryCount, writeManifest, type Manifest } from '@facesets/shared/discovery/manifest';
import { cropFileName } from '@facesets/shared/discovery/naming';
import { nextFacesetNumber } from '@facesets/shared/discovery/numbering';
import type { DotKernel } from '@facesets/shared/discovery/threshold-graph';
import { compareFaces, faceKey, type DiscoveryFace, type StoredFace } from '@facesets/shared/discovery/types';
import type { Logger } from '@facesets/shared/logger';
import type { JobParams } from '@facesets/shared/params';
import { renderReportMarkdown, REPORTS_DIR } from '@facesets/shared/report/markdown';
import type { CoverageReport, DiscoveryReport, FacesetOutcome, JobReport } from '@facesets/shared/report/types';
import { renderContactSheet } from './crops';
import type { ManifestEvent } from './events';
import { writeCrops, writeNewFacesets, type DecodeImage } from './export-facesets';
import type { OutputRootLock } from './lock';
import { listFacesets, removeStaleTemps, THIN_DIR, type ExistingFaceset } from './output-root';

export interface DiscoveryInput {
  jobId: string;
  mode: 'discover' | 'extend';
  bucket: string;
  outputRoot: string;
  params: JobParams;
  /** ISO time stamped on everything this job writes. */
  createdAt: string;
  /** The job's report so far (scan part); when given, the whole report is also written as _reports/<jobId>.md. */
  report?: JobReport;
}

export interface DiscoveryDeps {
  /** Every face of the job's sources, with every path of each source within the bucket. */
  loadJobFaces(): Promise<DiscoveryFace[]>;
  /** Face records (current model pack) of the sources named by the keys; box matching happens here, not there. */
  findFaces(keys: MemberKey[]): Promise<StoredFace[]>;
  lock: OutputRootLock;
  publish(event: ManifestEvent): Promise<void>;
  logger: Logger;
  /** Decodes a source at full resolution, EXIF-rotated (the frame the boxes and keypoints are in). */
  decodeImage: DecodeImage;
  /** Pair-finding kernel for clustering [pure JS]; the worker passes the onnxruntime GEMM one. */
  kernel?: DotKernel;
  /**
   * Runs under the output-root lock once coverage and clustering are done, before the first write to the root
   * (the job enters `exporting` here); throwing aborts the job with nothing written.
   */
  beforeWrites?: () => Promise<void>;
  /** Runs after the crops are written, before any set is moved into place (tests, cancellation); see ExportContext.afterCrops. */
  afterCrops?: () => Promise<void>;
}

export interface DiscoveryOutcome {
  coverage: CoverageReport;
  /** null for extend jobs (coverage only). */
  discovery: DiscoveryReport | null;
  added: string[];
  extended: string[];
  /** input.report completed with coverage and discovery, when input.report was given. */
  report?: JobReport;
}

interface Identity {
  set: ExistingFaceset;
  centroid: Float32Array | null;
  matched: number;
}

export async function runDiscovery(input: DiscoveryInput, deps: DiscoveryDeps): Promise<DiscoveryOutcome> {
  const log = deps.logger.child({ jobId: input.jobId, stage: 'discovery' });
  await mkdir(input.outputRoot, { recursive: true });
  // The lock key must be one string per folder, however the job spelled the path (symlinks, trailing slashes).
  const root = await realpath(input.outputRoot);
  const faces = (await deps.loadJobFaces()).sort(compareFaces);
  log.info({ faces: faces.length, outputRoot: root, mode: input.mode }, 'discovery started');

  const result = await deps.lock.withLock(root, async () => {
    const existing = await listFacesets(root);
    let manifest = await readManifest(root);
    const manifestBefore = manifest;

    // Coverage: centroids of existing sets, then the nearest one within routeThreshold per bucket face.
    const allKeys = existing.flatMap((s) => s.keys);
    const candidates = allKeys.length ? await deps.findFaces(allKeys) : [];
    const memberFaces = new Set<string>();
    let unmatchedMembers = 0;
    const identities: Identity[] = existing.map((set) => {
      if (set.problem) log.warn({ faceset: set.path, problem: set.problem }, 'face set has no usable member list');
      const matched = matchMembers(set.keys, candidates);
      unmatchedMembers += set.unusable + matched.filter((m) => !m).length;
      for (const m of matched) if (m) memberFaces.add(faceKey(m));
      return { set, centroid: identityCentroid(matched), matched: 0 };
    });
    const routes = routeFaces(faces, identities.map((i) => i.centroid), input.params.routeThreshold);
    const routed = new Map<number, DiscoveryFace[]>();
    const uncovered: DiscoveryFace[] = [];
    faces.forEach((f, i) => {
      const id = routes[i]!.identity;
      if (id < 0) return void uncovered.push(f);
      identities[id]!.matched++;
      const list = routed.get(id);
      if (list) list.push(f);
      else routed.set(id, [f]);
    });
    const coverage: CoverageReport = {
      identities: identities.map((i) => ({ name: i.set.name, path: i.set.path, members: i.set.keys.length + i.set.unusable, matched: i.matched })),
      covered: faces.length - uncovered.length,
      unmatchedMembers,
    };

    let found: Awaited<ReturnType<typeof discover>> | null = null;
    if (input.mode === 'discover') {
      const started = performance.now();
      found = await discover(uncovered, input.params, deps.kernel);
      log.info({ ...found.report, ms: Math.round(performance.now() - started) }, 'clusters found');
    }

    // Everything above only read the output root; from here on it is written.
    await deps.beforeWrites?.();
    const stale = await removeStaleTemps([root, join(root, THIN_DIR), ...existing.map((s) => join(root, s.path))]);
    if (stale.length) log.warn({ removed: stale }, 'removed temp entries an interrupted run left');

    const extended: string[] = [];
    if (input.mode === 'extend') {
      for (const [id, list] of [...routed].sort((a, b) => a[0] - b[0])) {
        const identity = identities[id]!;
        const fresh = list.filter((f) => !memberFaces.has(faceKey(f)));
        const added = await extendFaceset(root, identity, fresh, input, deps);
        coverage.identities[id]!.extendedWith = added.count;
        if (added.count > 0) {
          extended.push(identity.set.name);
          manifest = setEntryCount(manifest, identity.set.name, added.total);
        }
      }
    }

    let discovery: DiscoveryReport | null = null;
    let added: string[] = [];
    if (found) {
      const first = nextFacesetNumber([...existing.map((s) => s.name), ...manifestNames(manifest)]);
      const written = await writeNewFacesets(found.plans, first, {
        root,
        jobId: input.jobId,
        bucket: input.bucket,
        createdAt: input.createdAt,
        params: input.params,
        decodeImage: deps.decodeImage,
        ...(deps.afterCrops ? { afterCrops: deps.afterCrops } : {}),
      });
      manifest = appendEntries(manifest, written.entries);
      added = written.added;
      discovery = { ...found.report, facesets: written.outcomes };
    }
    if (manifest !== manifestBefore) await writeManifest(root, manifest);
    return { coverage, discovery, added, extended };
  });

  if (result.discovery) await writeContactSheets(root, input.jobId, result.discovery.facesets, log);
  let report: JobReport | undefined;
  if (input.report) {
    report = { ...input.report, coverage: result.coverage, ...(result.discovery ? { discovery: result.discovery } : {}) };
    await mkdir(join(root, REPORTS_DIR), { recursive: true });
    await writeFileAtomic(join(root, REPORTS_DIR, `${input.jobId}.md`), renderReportMarkdown(report));
  }
  if (result.added.length || result.extended.length) {
    const event: ManifestEvent = { outputRoot: root, jobId: input.jobId, added: result.added, extended: result.extended };
    // The sets are on disk and in the manifest; a lost notification must not fail (and re-run) the job.
    await deps.publish(event).catch((err: unknown) => log.warn({ err }, 'manifest event could not be published'));
  }
  log.info({ covered: result.coverage.covered, added: result.added, extended: result.extended }, 'discovery finished');
  return { ...result, ...(report ? { report } : {}) };
}

/**
 * Extend: the routed faces that pass the quality gates (blur, detScore, export size) become new PNGs of the set,
 * appended to its faceset.json (written atomically); the set's manifest count follows. A set without a readable
 * faceset.json is left alone.
 */
async function extendFaceset(
  root: string,
  identity: Identity,
  faces: DiscoveryFace[],
  input: DiscoveryInput,
  deps: DiscoveryDeps,
): Promise<{ count: number; total: number }> {
  const { set, centroid } = identity;
  const json = set.json;
  const members = json && Array.isArray(json.members) ? (json.members as unknown[]) : null;
  if (!json || !members || !centroid || !faces.length) return { count: 0, total: members?.length ?? 0 };
  const p = input.params;
  const { kept } = applyGates(faces, { minFaceShort: p.exportMinFaceShort, minBlur: p.minBlur, minDetScore: p.minDetScore });
  if (!kept.length) return { count: 0, total: members.length };
  const dir = join(root, set.path);
  const requests = kept.map((face) => ({ face, file: join(dir, `.tmp-${input.jobId}-${cropFileName(face)}`) }));
  const failed = await writeCrops(requests, deps.decodeImage, p.exportSize);
  const added: unknown[] = [];
  for (const [i, r] of requests.entries()) {
    if (failed.has(i)) continue;
    const png = cropFileName(r.face);
    await rename(r.file, join(dir, png));
    let s = 0;
    for (let k = 0; k < centroid.length; k++) s += r.face.embedding[k]! * centroid[k]!;
    added.push(facesetMember({ ...r.face, png, distance: 1 - s }));
  }
  if (!added.length) return { count: 0, total: members.length };
  const next = { ...json, members: [...members, ...added] };
  await writeFileAtomic(join(dir, FACESET_FILE), serializeFaceset(next));
  return { count: added.length, total: next.members.length };
}

/** _reports/<jobId>/<name>.png per new set: its PNGs nearest the centroid first, written atomically. */
async function writeContactSheets(root: string, jobId: string, outcomes: FacesetOutcome[], log: Logger): Promise<void> {
  const dir = join(root, REPORTS_DIR, jobId);
  for (const o of outcomes) {
    if (!o.name || !o.path) continue;
    try {
      const setDir = join(root, o.path);
      const file = JSON.parse(await readFile(join(setDir, FACESET_FILE), 'utf8')) as {
        members: { png: string; distance: number }[];
      };
      const pngs = [...file.members].sort((a, b) => a.distance - b.distance).map((m) => join(setDir, m.png));
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, `${o.name}.png`), await renderContactSheet(pngs));
      o.contactSheet = `${REPORTS_DIR}/${jobId}/${o.name}.png`;
    } catch (err) {
      // A report picture is not worth failing a job whose sets are already written.
      log.warn({ err, faceset: o.name }, 'contact sheet could not be written');
    }
  }
}
