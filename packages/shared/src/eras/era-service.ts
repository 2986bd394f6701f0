// Era split of one identity on request (POST /identities/:id/eras): its faces into era identities, each its own set.
import { centroid } from '../clustering/vectors';
import { FacesRepository } from '../db/faces.repository';
import type { IdentityRecord } from '../db/identities.repository';
import { inTransaction } from '../db/pool';
import { appendEntries, readManifest, writeManifest, type ManifestEntry } from '../export/manifest';
import { facesetName, facesetNumber, nextFacesetNumber } from '../export/numbering';
import { faceKeyOf } from '../identities/face-id';
import { IdentityConflictError, IdentityNotFoundError, placement, type IdentityService, type IdentityServiceDeps } from '../identities/identity-service';
import { curationFor } from '../identities/curation';
import { materialiseIdentity, type PngSources } from '../identities/materialise';
import type { IdentityDraft } from '../identities/records';
import { DEFAULT_PARAMS } from '../params';
import { eraDescriptor, splitEras, type EraBy, type EraParams } from './split-eras';

export interface EraSplitOutcome {
  parent: IdentityRecord;
  by: EraBy;
  /** The era identities made, oldest first; empty when the identity falls into fewer than two eras. */
  eras: IdentityRecord[];
  /** Faces no era took (undated faces of a date split): they stay in the parent only. */
  unplaced: number;
  /** Why nothing was split, when nothing was. */
  skipped?: string;
}

export class EraService {
  private readonly faces: Pick<FacesRepository, 'facesOfSources' | 'captureTimesOf' | 'shotsOf'>;

  constructor(private readonly deps: IdentityServiceDeps & { identities: IdentityService }) {
    this.faces = new FacesRepository(deps.db);
  }

  /**
   * Splits the identity into eras under its output root's lock: each era becomes an identity with `parent_id` and
   * `era`, its PNGs copied from the parent's folder; the parent stays as it is. An era identity, a retired one, or one
   * that already has eras is refused (409): delete its eras first to split it another way.
   */
  async split(id: string, by: EraBy, params: Partial<EraParams>): Promise<EraSplitOutcome> {
    const { identities } = this.deps.identities;
    const first = await identities.get(id);
    if (!first) throw new IdentityNotFoundError(id);
    const root = first.outputRoot;
    return this.deps.lock.withLock(root, async () => {
      await this.deps.identities.syncLocked(root);
      const [draft] = await this.deps.identities.drafts([id]);
      if (!draft) throw new IdentityNotFoundError(id);
      const parent = draft.identity;
      if (parent.state !== 'active') throw new IdentityConflictError(`identity ${parent.name} is ${parent.state}: only an active identity can be split into eras`);
      if (parent.parentId) throw new IdentityConflictError(`identity ${parent.name} is itself an era: split its parent instead`);
      const all = await identities.byRoot(root);
      const existing = all.filter((i) => i.parentId === parent.id && i.state === 'active');
      if (existing.length) throw new IdentityConflictError(`identity ${parent.name} already has eras (${existing.map((e) => e.name).join(', ')}): delete them first`);

      const modelPack = this.deps.modelPack;
      const mine = draft.members.filter((m) => m.modelPack === modelPack);
      const records = new Map((await this.faces.facesOfSources(mine.map((m) => m.sha256), modelPack)).map((f) => [`${f.sha256}:${f.faceIndex}`, f]));
      const times = await this.faces.captureTimesOf([...new Set(mine.map((m) => m.sha256))], modelPack);
      const faces = mine.flatMap((m) => {
        const f = records.get(`${m.sha256}:${m.faceIndex}`);
        return f ? [{ ...f, member: m, capturedAt: times.get(m.sha256) ?? null }] : [];
      });
      const full: EraParams = { eraGapYears: params.eraGapYears ?? paramOf(parent, 'eraGapYears'), eraThreshold: params.eraThreshold ?? paramOf(parent, 'eraThreshold') };
      const split = await splitEras(faces, by, full);
      if (split.eras.length < 2) {
        return { parent, by, eras: [], unplaced: split.unplaced.length, skipped: split.eras.length ? 'all faces fall into one era' : 'no era: no face is dated' };
      }
      const manifest = await readManifest(root);
      const used = [...all.map((i) => i.name), ...[...manifest.facesets, ...manifest.thin_eras].map((e) => String((e as { name?: unknown })?.name ?? ''))];
      let next = nextFacesetNumber(used);
      const thinBelow = paramOf(parent, 'thinBelow');
      const pngSources: PngSources = new Map(draft.members.map((m) => [faceKeyOf(m), { folder: parent.name, png: m.file }]));
      const drafts: IdentityDraft[] = await inTransaction(this.deps.db, async (client) => {
        const out: IdentityDraft[] = [];
        for (const era of split.eras) {
          const name = facesetName(next++);
          const descriptor = eraDescriptor(era);
          const { name: _n, label: _l, ...header } = parent.header;
          const row = await identities.insert(client, {
            outputRoot: root, name, number: facesetNumber(name)!, ...placement(name, era.members.length, thinBelow),
            header: { name, ...header, parent: parent.name, era: descriptor },
            ...(parent.label ? { label: parent.label } : {}),
            parentId: parent.id, era: descriptor,
            centroid: centroid(era.members.map((f) => f.embedding)), centroidModelPack: modelPack,
          });
          const members = era.members.map((f) => f.member);
          await identities.addMembers(client, row.id, root, members);
          out.push({ identity: row, members, rejections: [] });
        }
        return out;
      });
      const entries: ManifestEntry[] = [];
      for (const d of drafts) {
        const done = await materialiseIdentity(root, d, { decodeImage: this.deps.decodeImage, log: this.deps.log, bucketRoots: this.deps.bucketRoots, curate: curationFor(this.faces, this.faces) }, { pngSources });
        const { identity: e } = d;
        entries.push({
          name: e.name, path: e.path, count: done.count, source: String(parent.header.source ?? ''), jobId: String(parent.header.jobId ?? ''),
          createdAt: new Date().toISOString(), ...(e.label ? { label: e.label } : {}), parent: parent.name, era: e.era as ManifestEntry['era'],
        });
      }
      const m = appendEntries(manifest, { facesets: entries.filter((e) => !e.path.includes('/')), thin_eras: entries.filter((e) => e.path.includes('/')) });
      await writeManifest(root, m);
      // The root's formats follow the new era sets, like every other change of its records.
      await this.deps.identities.refreshFormats(root, this.deps.log, undefined, new Set(drafts.map((d) => d.identity.name)));
      await this.deps.publish({ outputRoot: root, jobId: `eras-${parent.name}`, added: drafts.map((d) => d.identity.name), extended: [] });
      this.deps.log.info({ outputRoot: root, identity: parent.name, by, eras: drafts.map((d) => d.identity.name) }, 'identity split into eras');
      return { parent, by, eras: drafts.map((d) => d.identity), unplaced: split.unplaced.length };
    });
  }
}

function paramOf(i: IdentityRecord, name: 'eraGapYears' | 'eraThreshold' | 'thinBelow'): number {
  const v = (i.header.params as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'number' && (v > 0 || (name === 'thinBelow' && v === 0)) ? v : DEFAULT_PARAMS[name];
}
