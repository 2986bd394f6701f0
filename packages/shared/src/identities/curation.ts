// Curation of an identity's members from their records: the evidence (embedding, pose, shot thumbnail) read from the
// face records, the job parameters (dedupe, maxFaces) from the set's header, the decision itself in curation/curate.ts.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Value } from 'typebox/value';
import { curate, type Curation, type CurationMember } from '../curation/curate';
import { faceSize } from '../curation/duplicates';
import type { FacesRepository } from '../db/faces.repository';
import { JobParamsSchema } from '../params';
import type { IdentityDraft } from './records';

export type CurateDraft = (draft: IdentityDraft) => Promise<Curation>;

/** The set's dedupe and maxFaces, defaults filled in (sets written before curation existed are deduped too). */
export function curationParams(header: Record<string, unknown>): { dedupe: boolean; maxFaces: number | undefined } {
  const raw = header.params && typeof header.params === 'object' ? (header.params as Record<string, unknown>) : {};
  const dedupe = typeof raw.dedupe === 'boolean' ? raw.dedupe : (Value.Default(JobParamsSchema.properties.dedupe, undefined) as boolean);
  const maxFaces = typeof raw.maxFaces === 'number' && Number.isInteger(raw.maxFaces) && raw.maxFaces >= 1 ? raw.maxFaces : undefined;
  return { dedupe, maxFaces };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Curations already made, by everything that decides them: each member's key, file, size, sharpness, pose, whether it
 * has evidence and is pinned (the evidence of a face key never changes once measured), and the set's dedupe and
 * maxFaces. An identity read or changed again with the same members gets the same answer without comparing its faces
 * pairwise again (1.8 s for 2,000 faces); a re-measured pose makes another key.
 */
const made = new LRUCache<string, Curation>({ max: 2_000 });

function curationKey(members: readonly CurationMember[], params: ReturnType<typeof curationParams>): string {
  const h = createHash('sha256').update(JSON.stringify([params.dedupe, params.maxFaces ?? null]));
  for (const m of members) {
    h.update(JSON.stringify([m.key, m.png, m.size, m.faceShort, m.blur, m.pose ?? null, m.evidence !== undefined, m.pinned]));
  }
  return h.digest('hex');
}

export function curationFor(faces: Pick<FacesRepository, 'facesOfSources'>, shots: Pick<FacesRepository, 'shotsOf'>): CurateDraft {
  return async (draft) => {
    const byPack = new Map<string, IdentityDraft['members']>();
    for (const m of draft.members) byPack.set(m.modelPack, [...(byPack.get(m.modelPack) ?? []), m]);
    const evidence = new Map<string, CurationMember['evidence']>();
    const poses = new Map<string, CurationMember['pose']>();
    for (const [pack, list] of byPack) {
      const [records, thumbs] = await Promise.all([faces.facesOfSources(list.map((m) => m.sha256), pack), shots.shotsOf(list, pack)]);
      for (const f of records) {
        const key = `${f.sha256}:${f.faceIndex}`;
        if (f.pose) poses.set(key, f.pose);
        const shot = thumbs.get(key);
        if (f.pose && shot) evidence.set(key, { embedding: f.embedding, shot, pose: f.pose });
      }
    }
    const members: CurationMember[] = draft.members.map((m) => {
      const key = `${m.sha256}:${m.faceIndex}`;
      const e = m.entry as { faceShort?: unknown; blur?: unknown; kps?: unknown };
      const kps = Array.isArray(e.kps) && e.kps.every((p) => Array.isArray(p) && p.length === 2) ? (e.kps as [number, number][]) : undefined;
      return {
        key, sha256: m.sha256, faceIndex: m.faceIndex, png: m.file, size: faceSize(kps, num(e.faceShort)), faceShort: num(e.faceShort), blur: num(e.blur),
        pose: poses.get(key), evidence: evidence.get(key), pinned: m.origin === 'assigned',
      };
    });
    const params = curationParams(draft.identity.header);
    const key = curationKey(members, params);
    const hit = made.get(key);
    if (hit) return hit;
    const out = curate(members, params);
    made.set(key, out);
    return out;
  };
}
