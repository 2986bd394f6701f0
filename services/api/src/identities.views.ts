// How identity records look on the wire: summaries, details with faces, decisions.
import type { DecisionRecord } from '@facesets/shared/db/decisions.repository';
import type { LeftOut } from '@facesets/shared/curation/curate';
import type { IdentityRecord, MemberRecord } from '@facesets/shared/db/identities.repository';
import type { Decision, IdentityDetail, IdentityFace } from '@facesets/shared/identities/contracts';
import { entryPose } from '@facesets/shared/export/faceset-file';
import { encodeFaceId } from '@facesets/shared/identities/face-id';
import { summaryOf } from '@facesets/shared/identities/identity-service';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

type MemberView = MemberRecord & { distance: number | null; left?: LeftOut | null };

export function faceView(m: MemberView, others: ReadonlyMap<string, MemberRecord> = new Map()): IdentityFace {
  const e = m.entry as { sources?: unknown; box?: unknown; detScore?: unknown; faceShort?: unknown; blur?: unknown; pose?: unknown };
  const id = encodeFaceId(m);
  return {
    id,
    file: m.file,
    // Deprecated: the same name as `file`, kept for one release for callers written against the PNG sets.
    png: m.file,
    sources: Array.isArray(e.sources) ? (e.sources as unknown[]).filter((s): s is string => typeof s === 'string') : [],
    sha256: m.sha256,
    faceIndex: m.faceIndex,
    box: Array.isArray(e.box) && e.box.length === 4 ? (e.box as number[]).map(num) : [0, 0, 0, 0],
    detScore: num(e.detScore),
    faceShort: num(e.faceShort),
    blur: num(e.blur),
    pose: entryPose(e.pose),
    distance: m.distance,
    exported: !m.left,
    left: m.left ? { reason: m.left.reason, duplicateOf: m.left.duplicateOf && others.has(m.left.duplicateOf) ? encodeFaceId(others.get(m.left.duplicateOf)!) : null } : null,
    origin: m.origin,
    thumb: `/faces/${id}/thumb`,
  };
}

export function detailView(d: { identity: IdentityRecord; members: MemberView[] }): IdentityDetail {
  const byKey = new Map(d.members.map((m) => [`${m.sha256}:${m.faceIndex}`, m]));
  const distances = d.members.map((m) => m.distance).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const p90 = distances.length ? distances[Math.min(distances.length - 1, Math.ceil(0.9 * distances.length) - 1)]! : undefined;
  return {
    ...summaryOf(d.identity, d.members.length),
    ...(p90 !== undefined ? { centroidDistanceP90: p90 } : {}),
    faces: d.members.map((m) => faceView(m, byKey)),
    foreignMembers: d.identity.foreignMembers.length,
  };
}

export function decisionView(d: DecisionRecord): Decision {
  return {
    id: d.id,
    kind: d.kind,
    identityId: d.identityId,
    identityIds: d.identityIds,
    faceIds: d.faceIds,
    detail: d.detail,
    actor: d.actor,
    undoneBy: d.undoneBy,
    createdAt: d.createdAt.toISOString(),
  };
}
