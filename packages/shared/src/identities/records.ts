// Decisions applied to identity records, as pure steps on drafts: who belongs where after reject/assign/merge/split.
import type { IdentityRecord, MemberRecord } from '../db/identities.repository';
import { THIN_DIR } from '../export/output-root';
import { faceKeyOf, type FaceKey } from './face-id';

export interface Era {
  by: string;
  from: string | null;
  to: string | null;
}

/** One identity as a decision sees it: its row, its members, the faces rejected from it. */
export interface IdentityDraft {
  identity: IdentityRecord;
  members: MemberRecord[];
  rejections: FaceKey[];
}

/** What undo restores for one identity (`existed: false`: the decision created it, undo retires it). */
export interface IdentitySnapshot {
  id: string;
  existed: boolean;
  row: Pick<IdentityRecord, 'label' | 'path' | 'thin' | 'state' | 'mergedInto' | 'header' | 'foreignMembers'>;
  members: MemberRecord[];
  rejections: FaceKey[];
}

/** Face ids a call named that are not where it said (not members of the identity, unknown faces). */
export class FaceNotInIdentityError extends Error {
  constructor(
    readonly faceIds: string[],
    where: string,
  ) {
    super(`faceIds not ${where}: ${faceIds.join(', ')}`);
    this.name = 'FaceNotInIdentityError';
  }
}

export function snapshot(d: IdentityDraft, existed = true): IdentitySnapshot {
  const { label, path, thin, state, mergedInto, header, foreignMembers } = d.identity;
  return { id: d.identity.id, existed, row: { label, path, thin, state, mergedInto, header, foreignMembers }, members: [...d.members], rejections: [...d.rejections] };
}

/** Where a set of `count` PNGs lives: under _thin/ below thinBelow. */
export function placement(name: string, count: number, thinBelow: number): { thin: boolean; path: string } {
  const thin = count < thinBelow;
  return { thin, path: thin ? `${THIN_DIR}/${name}` : name };
}

const keyOf = (m: FaceKey): string => faceKeyOf(m);

/** Takes the named members out of the draft; throws naming every key that is not a member. */
function takeMembers(d: IdentityDraft, keys: readonly FaceKey[], ids: (k: FaceKey) => string): MemberRecord[] {
  const wanted = new Set(keys.map(keyOf));
  const found = d.members.filter((m) => wanted.has(keyOf(m)));
  if (found.length !== wanted.size) {
    const have = new Set(found.map(keyOf));
    throw new FaceNotInIdentityError(keys.filter((k) => !have.has(keyOf(k))).map(ids), `in identity ${d.identity.name}`);
  }
  d.members = d.members.filter((m) => !wanted.has(keyOf(m)));
  return found;
}

function addRejections(d: IdentityDraft, keys: readonly FaceKey[]): void {
  const have = new Set(d.rejections.map(keyOf));
  for (const k of keys) if (!have.has(keyOf(k))) d.rejections.push({ sha256: k.sha256, faceIndex: k.faceIndex, modelPack: k.modelPack });
}

function dropRejections(d: IdentityDraft, keys: readonly FaceKey[]): void {
  const drop = new Set(keys.map(keyOf));
  d.rejections = d.rejections.filter((r) => !drop.has(keyOf(r)));
}

/** "Not this person": the faces leave the identity and are rejected from it for good. */
export function rejectFaces(d: IdentityDraft, keys: readonly FaceKey[], ids: (k: FaceKey) => string): MemberRecord[] {
  const out = takeMembers(d, keys, ids);
  addRejections(d, keys);
  return out;
}

/**
 * Assign: the faces join `target` pinned (origin `assigned`), leaving whichever identity held them; a rejection of
 * them from the target is lifted (a person's latest word wins).
 */
export function assignFaces(target: IdentityDraft, moves: readonly { member: MemberRecord; from: IdentityDraft | null }[]): void {
  for (const { member, from } of moves) {
    if (from === target) {
      // Already a member (perhaps one curation leaves out): pinned now, so it is exported.
      target.members = target.members.map((m) => (keyOf(m) === keyOf(member) ? { ...m, origin: 'assigned' } : m));
      continue;
    }
    if (from) from.members = from.members.filter((m) => keyOf(m) !== keyOf(member));
    target.members.push({ ...member, origin: 'assigned' });
  }
  dropRejections(target, moves.map((m) => m.member));
}

/** Merge: every member and rejection of `others` moves into `target`; the others are retired as merged into it. */
export function mergeInto(target: IdentityDraft, others: readonly IdentityDraft[]): void {
  for (const o of others) {
    // An era merged back into its parent brings faces the parent holds already: each face once.
    const have = new Set(target.members.map(keyOf));
    target.members.push(...o.members.filter((m) => !have.has(keyOf(m))));
    addRejections(target, o.rejections);
    o.members = [];
    o.rejections = [];
    o.identity = { ...o.identity, state: 'merged', mergedInto: target.identity.id };
  }
  // A face can be a member and a rejection of the merged whole only through two people's words: membership wins.
  dropRejections(target, target.members);
}

/** Split: the named members move to `fresh` (a new identity) with their origins. */
export function splitOff(source: IdentityDraft, fresh: IdentityDraft, keys: readonly FaceKey[], ids: (k: FaceKey) => string): void {
  fresh.members.push(...takeMembers(source, keys, ids));
}

/**
 * The draft's placement after its member count changed (`exported`: how many of the members curation exports, all
 * by default); merged and deleted identities keep their last path.
 */
export function updatePlacement(d: IdentityDraft, thinBelow: number, exported = d.members.length): void {
  if (d.identity.state !== 'active') return;
  const count = exported + d.identity.foreignMembers.length;
  d.identity = { ...d.identity, ...placement(d.identity.name, count, thinBelow) };
}
