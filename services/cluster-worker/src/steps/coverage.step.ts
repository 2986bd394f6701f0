// Coverage step: the identities of the output root (records, decisions honoured) and the bucket faces each covers.
import { cosineDistance } from '@facesets/shared/clustering/vectors';
import { routeWithDecisions } from '@facesets/shared/coverage/coverage';
import { routeToEras } from '@facesets/shared/eras/era-routing';
import type { DiscoveryFace } from '@facesets/shared/clustering/types';
import type { CoverageState } from '@facesets/shared/identities/identity-service';
import type { CoverageReport } from '@facesets/shared/report/types';

export interface CoverageResult {
  coverage: CoverageReport;
  state: CoverageState;
  /** Bucket faces that are no members yet, routed to state.identities[i], by i, with their distance. */
  routed: Map<number, (DiscoveryFace & { distance: number })[]>;
  /** Bucket faces no identity covers and no person took out: discovery's input. */
  uncovered: DiscoveryFace[];
  /** Faces a person took out of discovery (rejected, or members of retired identities) that nothing covers. */
  held: number;
}

/** Routes `faces` against the identities' records: members stay, rejected faces never go back, the rest by centroid. */
export function coverageStep(input: { faces: readonly DiscoveryFace[]; state: CoverageState; routeThreshold: number }): CoverageResult {
  const { state } = input;
  // A face that reaches a person with eras goes to the nearest era (and its parent too); else to the parent.
  const routes = routeToEras(
    input.faces,
    state.identities.map((i) => ({ id: i.record.id, parentId: i.record.parentId, centroid: i.centroid, rejected: i.rejected })),
    routeWithDecisions(input.faces, state.identities, state.memberOf, state.held, input.routeThreshold),
    input.routeThreshold,
  );
  const routed = new Map<number, (DiscoveryFace & { distance: number })[]>();
  const uncovered: DiscoveryFace[] = [];
  const matched = state.identities.map(() => 0);
  let held = 0;
  input.faces.forEach((f, i) => {
    const r = routes[i]!;
    if (r.identity >= 0) {
      matched[r.identity]!++;
      if (r.member) return;
      const add = (idx: number, distance: number) => {
        const list = routed.get(idx);
        const face = { ...f, distance };
        if (list) list.push(face);
        else routed.set(idx, [face]);
      };
      add(r.identity, r.distance);
      const parent = r.parent === null ? null : state.identities[r.parent]!;
      if (parent?.centroid && !parent.rejected.has(`${f.sha256}:${f.faceIndex}`)) add(r.parent!, cosineDistance(f.embedding, parent.centroid));
    } else if (r.held) held++;
    else uncovered.push(f);
  });
  const coverage: CoverageReport = {
    identities: state.identities.map((i, k) => ({
      name: i.record.name,
      path: i.record.path,
      members: i.members.length + i.record.foreignMembers.length,
      matched: matched[k]!,
    })),
    covered: input.faces.length - uncovered.length - held,
    unmatchedMembers: state.identities.reduce((s, i) => s + i.unmatched, 0),
  };
  return { coverage, state, routed, uncovered, held };
}
