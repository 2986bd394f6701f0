// Keeps an output root's enabled formats equal to its records: after every job's writes and every decision's
// folders, the formats are rebuilt from the identity rows and members (unchanged files are reused, see
// write-formats.ts). Call under the output-root lock.
import { basename } from 'node:path';
import type { IdentitiesRepository, IdentityRecord } from '../db/identities.repository';
import { FormatsRepository, type RootFormats } from '../db/formats.repository';
import type { Db } from '../db/pool';
import type { SourcesRepository } from '../db/sources.repository';
import { entryBox, entryKps, entryPose } from '../export/faceset-file';
import { exportedMembers } from '../export/set-writer';
import { realPathUnder } from '../export/root-guard';
import type { DecodeImage } from '../export/write-facesets';
import { isInside } from '../jobs/paths';
import type { Logger } from '../logger';
import type { JobParams } from '../params';
import { formatParamsOf, FORMATS, writeFormats, type FormatDeps, type FormatFace, type FormatName, type FormatParams, type FormatSet, type FormatsResult } from './write-formats';

export interface RootFormatsDeps {
  db: Db;
  identities: IdentitiesRepository;
  sources: SourcesRepository;
  bucketRoots: readonly string[];
  decodeImage: DecodeImage;
  landmarks68: FormatDeps['landmarks68'];
}

export class RootFormatsKeeper {
  readonly repo: FormatsRepository;
  constructor(private readonly deps: RootFormatsDeps) {
    this.repo = new FormatsRepository(deps.db);
  }

  /** A job naming formats enables them on its root (with the job's format settings); one naming none changes nothing. */
  async enableFromJob(root: string, params: Partial<JobParams>): Promise<void> {
    const wanted = (params.formats ?? []).filter((f): f is FormatName => (FORMATS as readonly string[]).includes(f));
    if (!wanted.length) return;
    const now = await this.repo.get(root);
    await this.repo.set(root, [...new Set([...now.formats, ...wanted])], formatParamsOf({ ...now.params, ...params, faceSize: params.exportSize ?? now.params.faceSize }));
  }

  /** The sets of the root as the formats see them: active identities, each with the faces it exports. */
  async setsOf(root: string, only?: readonly string[]): Promise<{ identity: IdentityRecord; set: FormatSet }[]> {
    const identities = (await this.deps.identities.byRoot(root)).filter((i) => i.state === 'active' && (!only || only.includes(i.id)));
    const members = await this.deps.identities.members(identities.map((i) => i.id));
    const out: { identity: IdentityRecord; set: FormatSet }[] = [];
    for (const identity of identities) {
      const exported = await exportedMembers(root, identity.path, members.get(identity.id) ?? []);
      const faces: FormatFace[] = [];
      for (const m of exported) {
        const e = m.entry as { box?: unknown; kps?: unknown; sources?: unknown; pose?: unknown };
        const box = entryBox(e.box), kps = entryKps(e.kps);
        if (!box || !kps) continue;
        const listed = Array.isArray(e.sources) ? e.sources.filter((p): p is string => typeof p === 'string') : [];
        // faceset.json's sources (every path of the photo in its bucket), judged by real path under BUCKET_ROOTS;
        // the scans' paths only when none is left (one query per such face, not per face).
        const real = async (list: readonly string[]) => [...new Set((await Promise.all(list.map((p) => realPathUnder(p, this.deps.bucketRoots)))).filter((p): p is string => p !== null))];
        let paths = await real(listed);
        if (!paths.length) paths = await real((await this.deps.sources.aliasesOf(m.sha256)).map((a) => a.path));
        if (!paths.length) continue;
        const pose = entryPose(e.pose);
        faces.push({ sha256: m.sha256, faceIndex: m.faceIndex, box, kps, paths, ...(pose ? { pose } : {}) });
      }
      out.push({ identity, set: { name: identity.name, label: identity.label, bucket: this.bucketOf(identity, faces), faces } });
    }
    return out;
  }

  /** The set's bucket (faceset.json's `source`) when its photos lie in it, else the BUCKET_ROOTS entry holding them. */
  private bucketOf(identity: IdentityRecord, faces: readonly FormatFace[]): string {
    const src = identity.header.source;
    const first = faces[0]?.paths[0];
    if (typeof src === 'string' && (!first || isInside(src, first))) return src;
    return (first && this.deps.bucketRoots.find((r) => isInside(r, first))) ?? (typeof src === 'string' ? src : basename(first ?? 'bucket'));
  }

  /** Rebuilds the enabled formats of the root (only the `touched` sets' files when given) and removes disabled ones. */
  async refresh(root: string, log: Logger, stored?: RootFormats, touched?: ReadonlySet<string>): Promise<FormatsResult> {
    const { formats, params } = stored ?? (await this.repo.get(root));
    const sets = formats.length ? (await this.setsOf(root)).map((s) => s.set) : [];
    const res = await writeFormats(root, formats, sets, params, { decodeImage: this.deps.decodeImage, landmarks68: this.deps.landmarks68, log }, touched ? { touched } : {});
    if (res.failed.length) log.warn({ failed: res.failed.slice(0, 20), count: res.failed.length }, 'some format files could not be written');
    if (res.written.length || res.removed.length) log.info({ written: res.written, removed: res.removed, rendered: res.rendered, reused: res.reused }, 'formats refreshed');
    return res;
  }

  /** PUT /output-roots/formats: the root's formats become `formats` (settings merged), then written or removed. */
  async configure(root: string, formats: readonly FormatName[], params: Partial<FormatParams> | undefined, log: Logger): Promise<{ stored: RootFormats; result: FormatsResult }> {
    const now = await this.repo.get(root);
    const stored: RootFormats = { formats: FORMATS.filter((f) => formats.includes(f)), params: formatParamsOf({ ...now.params, ...(params ?? {}) }) };
    await this.repo.set(root, stored.formats, stored.params);
    return { stored, result: await this.refresh(root, log, stored) };
  }
}
