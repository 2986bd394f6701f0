// Coverage step: centroids of the identities already in the output root, and the bucket faces each one covers.
import { identityCentroid, matchMembers, routeFaces, type MemberKey } from '@facesets/shared/coverage/coverage';
import { faceKey, type DiscoveryFace, type StoredFace } from '@facesets/shared/clustering/types';
import { listFacesets, type ExistingFaceset } from '@facesets/shared/export/output-root';
import type { Logger } from '@facesets/shared/logger';
import type { CoverageReport } from '@facesets/shared/report/types';

export interface CoverageDeps {
  /** Face records (current model pack) of the sources named by the keys; box matching happens here, not there. */
  findFaces(keys: MemberKey[]): Promise<StoredFace[]>;
  log: Logger;
}

export interface KnownIdentity {
  set: ExistingFaceset;
  centroid: Float32Array | null;
  matched: number;
}

export interface CoverageResult {
  coverage: CoverageReport;
  /** The output root's face sets, in number order, with their centroids. */
  identities: KnownIdentity[];
  /** Bucket faces routed to identities[i], by i. */
  routed: Map<number, DiscoveryFace[]>;
  /** Bucket faces no identity covers: discovery's input. */
  uncovered: DiscoveryFace[];
  /** faceKey of every face already a member of some set. */
  memberFaces: Set<string>;
}

/** Reads the output root's sets (call under its lock) and routes `faces` to the nearest centroid within routeThreshold. */
export async function coverageStep(
  input: { root: string; faces: readonly DiscoveryFace[]; routeThreshold: number },
  deps: CoverageDeps,
): Promise<CoverageResult> {
  const existing = await listFacesets(input.root);
  const allKeys = existing.flatMap((s) => s.keys);
  const candidates = allKeys.length ? await deps.findFaces(allKeys) : [];
  const memberFaces = new Set<string>();
  let unmatchedMembers = 0;
  const identities: KnownIdentity[] = existing.map((set) => {
    if (set.problem) deps.log.warn({ faceset: set.path, problem: set.problem }, 'face set has no usable member list');
    const matched = matchMembers(set.keys, candidates);
    unmatchedMembers += set.unusable + matched.filter((m) => !m).length;
    for (const m of matched) if (m) memberFaces.add(faceKey(m));
    return { set, centroid: identityCentroid(matched), matched: 0 };
  });
  const routes = routeFaces(input.faces, identities.map((i) => i.centroid), input.routeThreshold);
  const routed = new Map<number, DiscoveryFace[]>();
  const uncovered: DiscoveryFace[] = [];
  input.faces.forEach((f, i) => {
    const id = routes[i]!.identity;
    if (id < 0) return void uncovered.push(f);
    identities[id]!.matched++;
    const list = routed.get(id);
    if (list) list.push(f);
    else routed.set(id, [f]);
  });
  const coverage: CoverageReport = {
    identities: identities.map((i) => ({ name: i.set.name, path: i.set.path, members: i.set.keys.length + i.set.unusable, matched: i.matched })),
    covered: input.faces.length - uncovered.length,
    unmatchedMembers,
  };
  return { coverage, identities, routed, uncovered, memberFaces };
}
