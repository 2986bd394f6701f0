// The manifest after identity changes: active sets' entries updated in place, merged and deleted ones moved out.
import type { IdentityRecord } from '../db/identities.repository';
import type { Manifest } from '../export/manifest';

export interface IdentityManifestState {
  identity: Pick<IdentityRecord, 'id' | 'name' | 'label' | 'path' | 'thin' | 'state' | 'mergedInto' | 'header'>;
  count: number;
  /** Name of the identity it was merged into (state merged). */
  mergedIntoName?: string;
}

const nameOf = (e: unknown): unknown => (e && typeof e === 'object' ? (e as { name?: unknown }).name : undefined);

/**
 * Active identities: their entry (found by name in facesets or thin_eras) gets path, count and label, and sits in
 * `facesets` or `thin_eras` as its placement says; other keys stay. Merged identities leave both lists for
 * `merged: [{name, into, count: 0}]`, deleted ones for `deleted: [{name}]`. Entries of other names are untouched.
 */
export function applyIdentities(m: Manifest, states: readonly IdentityManifestState[], at: string): Manifest {
  const lists = { facesets: [...m.facesets], thin_eras: [...m.thin_eras] };
  let merged = Array.isArray(m.merged) ? [...(m.merged as unknown[])] : [];
  let deleted = Array.isArray(m.deleted) ? [...(m.deleted as unknown[])] : [];
  for (const s of states) {
    const { name } = s.identity;
    const without = (list: unknown[]) => list.filter((e) => nameOf(e) !== name);
    merged = without(merged);
    deleted = without(deleted);
    if (s.identity.state === 'active') {
      const want = s.identity.thin ? 'thin_eras' : 'facesets';
      const other = s.identity.thin ? 'facesets' : 'thin_eras';
      const here = lists[want].findIndex((e) => nameOf(e) === name);
      const there = lists[other].findIndex((e) => nameOf(e) === name);
      const h = s.identity.header;
      const old = (here >= 0 ? lists[want][here] : there >= 0 ? lists[other][there] : null) as Record<string, unknown> | null;
      const { label: _label, ...base } = old ?? { name, path: s.identity.path, count: s.count, source: h.source, jobId: h.jobId, createdAt: h.createdAt };
      const entry = { ...base, path: s.identity.path, count: s.count, ...(s.identity.label ? { label: s.identity.label } : {}) };
      if (there >= 0) lists[other].splice(there, 1);
      if (here >= 0) lists[want][here] = entry;
      else lists[want].push(entry);
    } else {
      lists.facesets = without(lists.facesets);
      lists.thin_eras = without(lists.thin_eras);
      if (s.identity.state === 'merged') merged.push({ name, into: s.mergedIntoName ?? null, at });
      else deleted.push({ name, at });
    }
  }
  const out: Manifest = { ...m, ...lists };
  if (merged.length) out.merged = merged;
  else delete out.merged;
  if (deleted.length) out.deleted = deleted;
  else delete out.deleted;
  return out;
}
