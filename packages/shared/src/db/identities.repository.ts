// Identities of output roots: adopted roots, identity rows, member faces and rejections (all their SQL).
import type { Era } from '../identities/records';
import type { FaceOrigin, IdentityState } from '../identities/contracts';
import type { DbClient, Db } from './pool';
import { bytesToEmbedding, embeddingToBytes } from './faces.repository';
import { shaToBytes, shaToHex } from './sha';
import { LONE_SURROGATE } from '../identities/label';

type Queryable = Pick<Db, 'query'> | DbClient;

export interface IdentityRecord {
  id: string;
  outputRoot: string;
  name: string;
  number: number;
  label: string | null;
  path: string;
  thin: boolean;
  state: IdentityState;
  mergedInto: string | null;
  parentId: string | null;
  era: Era | null;
  /** faceset.json without members. */
  header: Record<string, unknown>;
  foreignMembers: unknown[];
  /** Centroid of the members' embeddings of `centroidModelPack`, or null (no member with a face record). */
  centroid: Float32Array | null;
  centroidModelPack: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface MemberRecord {
  sha256: string;
  faceIndex: number;
  modelPack: string;
  origin: FaceOrigin;
  /** The member's file in the set folder (the set writer names it; a PNG for the sets written today). */
  file: string;
  /** The faceset.json member entry. */
  entry: Record<string, unknown>;
}

export interface RejectionRecord {
  identityId: string;
  sha256: string;
  faceIndex: number;
  modelPack: string;
}

export type NewIdentity = Pick<IdentityRecord, 'outputRoot' | 'name' | 'number' | 'path' | 'thin' | 'header'> &
  Partial<Pick<IdentityRecord, 'label' | 'state' | 'foreignMembers' | 'parentId' | 'era' | 'centroid' | 'centroidModelPack'>>;

export type IdentityChange = Partial<
  Pick<IdentityRecord, 'label' | 'path' | 'thin' | 'state' | 'mergedInto' | 'header' | 'foreignMembers' | 'centroid' | 'centroidModelPack'>
>;

export class InvalidIdentityCursorError extends Error {
  constructor() {
    super('cursor is not valid');
    this.name = 'InvalidIdentityCursorError';
  }
}

const COLUMNS = `id, output_root, name, number, label, path, thin, state, merged_into, parent_id, era, header, foreign_members,
  centroid, centroid_model_pack, version, created_at, updated_at`;

function toIdentity(r: Record<string, unknown>): IdentityRecord {
  return {
    id: r.id as string,
    outputRoot: r.output_root as string,
    name: r.name as string,
    number: r.number as number,
    label: (r.label as string | null) ?? null,
    path: r.path as string,
    thin: r.thin as boolean,
    state: r.state as IdentityState,
    mergedInto: (r.merged_into as string | null) ?? null,
    parentId: (r.parent_id as string | null) ?? null,
    era: (r.era as Era | null) ?? null,
    header: (r.header as Record<string, unknown>) ?? {},
    foreignMembers: (r.foreign_members as unknown[]) ?? [],
    centroid: r.centroid ? bytesToEmbedding(r.centroid as Buffer) : null,
    centroidModelPack: (r.centroid_model_pack as string | null) ?? null,
    version: r.version as number,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

function toMember(r: Record<string, unknown>): MemberRecord & { identityId: string } {
  return {
    identityId: r.identity_id as string,
    sha256: shaToHex(r.sha256 as Buffer),
    faceIndex: r.face_index as number,
    modelPack: r.model_pack as string,
    origin: r.origin as FaceOrigin,
    file: r.file as string,
    entry: r.entry as Record<string, unknown>,
  };
}

export interface IdentityListItem extends IdentityRecord {
  count: number;
  distanceP90: number | null;
}

export class IdentitiesRepository {
  constructor(private readonly db: Db) {}

  /** Records the root as adopted; true the first time. */
  async ensureRoot(root: string, q: Queryable = this.db): Promise<boolean> {
    const { rowCount } = await q.query('INSERT INTO output_roots (path) VALUES ($1) ON CONFLICT DO NOTHING', [root]);
    return rowCount === 1;
  }

  /**
   * Identities an unfinished run of `jobId` recorded (faceset.json header `jobId`) that no decision touched since:
   * removed with their members, so the restarted run records them again exactly once. Their names are free again.
   */
  async forgetUnfinishedJobSets(root: string, jobId: string, q: Queryable = this.db): Promise<string[]> {
    const { rows } = await q.query<{ name: string }>(
      `DELETE FROM identities i
        WHERE i.output_root = $1 AND i.header->>'jobId' = $2
          AND NOT EXISTS (SELECT 1 FROM decision_identities d WHERE d.identity_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM identities c WHERE c.parent_id = i.id OR c.merged_into = i.id)
        RETURNING i.name`,
      [root, jobId],
    );
    return rows.map((r) => r.name).sort();
  }

  /** Adopted output roots (every root is adopted by the first sync a job or a call makes of it): a small table. */
  async adoptedRoots(): Promise<string[]> {
    const { rows } = await this.db.query<{ path: string }>('SELECT path FROM output_roots');
    return rows.map((r) => r.path);
  }

  /** Every output root the service knows: adopted ones and those jobs named (reads the jobs table: per request only). */
  async knownRoots(): Promise<string[]> {
    const { rows } = await this.db.query<{ path: string }>(
      'SELECT path FROM output_roots UNION SELECT DISTINCT output_root FROM jobs WHERE output_root IS NOT NULL',
    );
    return rows.map((r) => r.path);
  }

  /** Marks identities whose folders a decision is about to rewrite (in the decision's transaction). */
  async markDiskPending(client: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length) await client.query('UPDATE identities SET disk_pending = true WHERE id = ANY($1::uuid[])', [ids]);
  }

  /** The folders are written: the mark goes. */
  async clearDiskPending(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.db.query('UPDATE identities SET disk_pending = false WHERE id = ANY($1::uuid[]) AND disk_pending', [ids]);
  }

  /** Identities of the root whose last decision was recorded but not (all) written to disk. */
  async diskPendingOf(root: string): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM identities WHERE output_root = $1 AND disk_pending', [root]);
    return rows.map((r) => r.id);
  }

  async isAdopted(root: string): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM output_roots WHERE path = $1', [root]);
    return rows.length > 0;
  }

  /** Every identity of the root, by number; centroids (2 kB each) only when asked for. */
  async byRoot(root: string, opts: { centroids?: boolean } = {}, q: Queryable = this.db): Promise<IdentityRecord[]> {
    const cols = opts.centroids ? COLUMNS : COLUMNS.replace('centroid,', 'NULL::bytea AS centroid,');
    const { rows } = await q.query(`SELECT ${cols} FROM identities WHERE output_root = $1 ORDER BY number`, [root]);
    return rows.map(toIdentity);
  }

  async get(id: string, q: Queryable = this.db): Promise<IdentityRecord | null> {
    const { rows } = await q.query(`SELECT ${COLUMNS} FROM identities WHERE id = $1`, [id]);
    return rows[0] ? toIdentity(rows[0]) : null;
  }

  async getMany(ids: readonly string[], q: Queryable = this.db): Promise<IdentityRecord[]> {
    const { rows } = await q.query(`SELECT ${COLUMNS} FROM identities WHERE id = ANY($1::uuid[]) ORDER BY number`, [ids]);
    return rows.map(toIdentity);
  }

  /** Locks the rows for the rest of the transaction (FOR UPDATE), so two changes of one identity serialise. */
  async lockMany(client: DbClient, ids: readonly string[]): Promise<IdentityRecord[]> {
    const { rows } = await client.query(`SELECT ${COLUMNS} FROM identities WHERE id = ANY($1::uuid[]) ORDER BY number FOR UPDATE`, [ids]);
    return rows.map(toIdentity);
  }

  /** A page by (output root, number), with member counts and the 90th percentile of the members' stored distances. */
  async page(q: { outputRoot?: string; state?: IdentityState; limit: number; cursor?: string }): Promise<{ items: IdentityListItem[]; nextCursor: string | null }> {
    const args: unknown[] = [];
    const where: string[] = [];
    if (q.outputRoot !== undefined) where.push(`i.output_root = $${args.push(q.outputRoot)}`);
    if (q.state) where.push(`i.state = $${args.push(q.state)}`);
    if (q.cursor) {
      const [root, number] = decodeCursor(q.cursor);
      where.push(`(i.output_root, i.number) > ($${args.push(root)}, $${args.push(number)})`);
    }
    const limit = args.push(q.limit + 1);
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS.split(',').map((c) => `i.${c.trim()}`).join(', ')},
         (SELECT count(*) FROM identity_faces m WHERE m.identity_id = i.id) AS count,
         (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY (m.entry->>'distance')::float8)
            FROM identity_faces m WHERE m.identity_id = i.id AND jsonb_typeof(m.entry->'distance') = 'number') AS p90
       FROM identities i ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY i.output_root, i.number LIMIT $${limit}`,
      args,
    );
    const items = rows.slice(0, q.limit).map((r) => ({ ...toIdentity(r), count: r.count as number, distanceP90: (r.p90 as number | null) ?? null }));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last.outputRoot, last.number) : null };
  }

  /** Members of the identities, each identity's in position order. */
  async members(identityIds: readonly string[], q: Queryable = this.db): Promise<Map<string, MemberRecord[]>> {
    const out = new Map<string, MemberRecord[]>(identityIds.map((id) => [id, []]));
    if (!identityIds.length) return out;
    const { rows } = await q.query(
      `SELECT identity_id, sha256, face_index, model_pack, origin, file, entry FROM identity_faces
       WHERE identity_id = ANY($1::uuid[]) ORDER BY identity_id, position`,
      [identityIds],
    );
    for (const r of rows) {
      const { identityId, ...m } = toMember(r);
      out.get(identityId)!.push(m);
    }
    return out;
  }

  /** Every member of every identity of the root (any state). */
  async membersOfRoot(root: string, q: Queryable = this.db): Promise<Map<string, MemberRecord[]>> {
    const { rows } = await q.query(
      `SELECT identity_id, sha256, face_index, model_pack, origin, file, entry FROM identity_faces
       WHERE output_root = $1 ORDER BY identity_id, position`,
      [root],
    );
    const out = new Map<string, MemberRecord[]>();
    for (const r of rows) {
      const { identityId, ...m } = toMember(r);
      const list = out.get(identityId);
      if (list) list.push(m);
      else out.set(identityId, [m]);
    }
    return out;
  }

  async rejectionsOfRoot(root: string, q: Queryable = this.db): Promise<RejectionRecord[]> {
    const { rows } = await q.query(
      'SELECT identity_id, sha256, face_index, model_pack FROM identity_rejections WHERE output_root = $1',
      [root],
    );
    return rows.map((r) => ({ identityId: r.identity_id, sha256: shaToHex(r.sha256), faceIndex: r.face_index, modelPack: r.model_pack }));
  }

  async rejectionsOf(identityIds: readonly string[], q: Queryable = this.db): Promise<RejectionRecord[]> {
    const { rows } = await q.query(
      'SELECT identity_id, sha256, face_index, model_pack FROM identity_rejections WHERE identity_id = ANY($1::uuid[])',
      [identityIds],
    );
    return rows.map((r) => ({ identityId: r.identity_id, sha256: shaToHex(r.sha256), faceIndex: r.face_index, modelPack: r.model_pack }));
  }

  /** The identity of the root holding each face (by sha256:faceIndex:modelPack), for faces that have one. */
  async holders(root: string, keys: readonly { sha256: string; faceIndex: number; modelPack: string }[], q: Queryable = this.db): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!keys.length) return out;
    const { rows } = await q.query(
      `SELECT m.identity_id, m.sha256, m.face_index, m.model_pack FROM identity_faces m
       JOIN unnest($2::bytea[], $3::int[], $4::text[]) AS k(sha256, face_index, model_pack)
         ON m.sha256 = k.sha256 AND m.face_index = k.face_index AND m.model_pack = k.model_pack
       WHERE m.output_root = $1`,
      [root, keys.map((k) => shaToBytes(k.sha256)), keys.map((k) => k.faceIndex), keys.map((k) => k.modelPack)],
    );
    for (const r of rows) out.set(`${shaToHex(r.sha256)}:${r.face_index}:${r.model_pack}`, r.identity_id);
    return out;
  }

  /** Member PNG names of the identities (light: no entries). */
  async memberFilesOf(identityIds: readonly string[], q: Queryable = this.db): Promise<Map<string, Set<string>>> {
    const { rows } = await q.query<{ identity_id: string; file: string }>('SELECT identity_id, file FROM identity_faces WHERE identity_id = ANY($1::uuid[])', [identityIds]);
    const out = new Map<string, Set<string>>();
    for (const r of rows) {
      const s = out.get(r.identity_id);
      if (s) s.add(r.file);
      else out.set(r.identity_id, new Set([r.file]));
    }
    return out;
  }

  /** Every identity (any root) holding the face, with its folder and the face's PNG. */
  async holdersOfFace(key: { sha256: string; faceIndex: number; modelPack: string }): Promise<{ identity: IdentityRecord; file: string }[]> {
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS.split(',').map((c) => `i.${c.trim()}`).join(', ')}, m.file FROM identity_faces m JOIN identities i ON i.id = m.identity_id
       WHERE m.sha256 = $1 AND m.face_index = $2 AND m.model_pack = $3 ORDER BY (i.state = 'active') DESC`,
      [shaToBytes(key.sha256), key.faceIndex, key.modelPack],
    );
    return rows.map((r) => ({ identity: toIdentity(r), file: r.file as string }));
  }

  /** The largest number any identity of the root ever took (merged and deleted included): names are never reused. */
  async maxNumber(root: string, q: Queryable = this.db): Promise<number> {
    const { rows } = await q.query<{ n: number | null }>('SELECT max(number) AS n FROM identities WHERE output_root = $1', [root]);
    return rows[0]?.n ?? 0;
  }

  async insert(client: Queryable, i: NewIdentity): Promise<IdentityRecord> {
    const { rows } = await client.query(
      `INSERT INTO identities (output_root, name, number, label, path, thin, state, header, foreign_members, parent_id, era,
         centroid, centroid_model_pack)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${COLUMNS}`,
      [
        i.outputRoot, i.name, i.number, i.label ?? null, i.path, i.thin, i.state ?? 'active', JSON.stringify(i.header),
        JSON.stringify(i.foreignMembers ?? []), i.parentId ?? null, i.era ? JSON.stringify(i.era) : null,
        i.centroid ? embeddingToBytes(i.centroid) : null, i.centroid ? (i.centroidModelPack ?? null) : null,
      ],
    );
    return toIdentity(rows[0]!);
  }

  /** Applies the change and bumps the version (every call is a change, even an empty one). */
  async update(client: Queryable, id: string, c: IdentityChange): Promise<IdentityRecord> {
    const sets: string[] = [];
    const args: unknown[] = [id];
    const col = (name: string, v: unknown) => sets.push(`${name} = $${args.push(v)}`);
    if (c.label !== undefined) col('label', c.label);
    if (c.path !== undefined) col('path', c.path);
    if (c.thin !== undefined) col('thin', c.thin);
    if (c.state !== undefined) col('state', c.state);
    if (c.mergedInto !== undefined) col('merged_into', c.mergedInto);
    if (c.header !== undefined) col('header', JSON.stringify(c.header));
    if (c.foreignMembers !== undefined) col('foreign_members', JSON.stringify(c.foreignMembers));
    if (c.centroid !== undefined) col('centroid', c.centroid ? embeddingToBytes(c.centroid) : null);
    if (c.centroidModelPack !== undefined) col('centroid_model_pack', c.centroidModelPack);
    const { rows } = await client.query(
      `UPDATE identities SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      args,
    );
    if (!rows[0]) throw new Error(`identity ${id} does not exist`);
    return toIdentity(rows[0]);
  }

  /** Deletes the members of all the identities (first, so faces can move between them in one transaction). */
  async clearMembers(client: Queryable, identityIds: readonly string[]): Promise<void> {
    await client.query('DELETE FROM identity_faces WHERE identity_id = ANY($1::uuid[])', [identityIds]);
  }

  /** Members of identities that have none yet (just inserted), positions in list order, in few statements. */
  async addMembersOfNew(client: Queryable, root: string, lists: readonly { identityId: string; members: readonly MemberRecord[] }[]): Promise<void> {
    const rows = lists.flatMap((l) => l.members.map((m, position) => ({ id: l.identityId, m, position })));
    const CHUNK = 5000;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      await client.query(
        `INSERT INTO identity_faces (identity_id, output_root, sha256, face_index, model_pack, origin, file, entry, position, in_era)
         SELECT k.identity_id, $1, k.sha256, k.face_index, k.model_pack, k.origin, k.file, k.entry, k.position,
                (SELECT parent_id IS NOT NULL FROM identities WHERE id = k.identity_id)
         FROM unnest($2::uuid[], $3::bytea[], $4::int[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::int[])
           AS k(identity_id, sha256, face_index, model_pack, origin, file, entry, position)`,
        [
          root, part.map((r) => r.id), part.map((r) => shaToBytes(r.m.sha256)), part.map((r) => r.m.faceIndex), part.map((r) => r.m.modelPack),
          part.map((r) => r.m.origin), part.map((r) => r.m.file), part.map((r) => JSON.stringify(r.m.entry)), part.map((r) => r.position),
        ],
      );
    }
  }

  /** Appends members after the identity's last position. */
  async addMembers(client: Queryable, identityId: string, root: string, members: readonly MemberRecord[]): Promise<void> {
    const CHUNK = 2000;
    const { rows } = await client.query<{ p: number | null }>('SELECT max(position) AS p FROM identity_faces WHERE identity_id = $1', [identityId]);
    let next = (rows[0]?.p ?? -1) + 1;
    for (let i = 0; i < members.length; i += CHUNK) {
      const part = members.slice(i, i + CHUNK);
      await client.query(
        // in_era follows the identity: an era's members are its parent's faces too (migration 0004b).
        `INSERT INTO identity_faces (identity_id, output_root, sha256, face_index, model_pack, origin, file, entry, position, in_era)
         SELECT $1, $2, u.*, (SELECT parent_id IS NOT NULL FROM identities WHERE id = $1)
         FROM unnest($3::bytea[], $4::int[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::int[]) AS u`,
        [
          identityId, root,
          part.map((m) => shaToBytes(m.sha256)), part.map((m) => m.faceIndex), part.map((m) => m.modelPack),
          part.map((m) => m.origin), part.map((m) => m.file), part.map((m) => JSON.stringify(m.entry)), part.map(() => next++),
        ],
      );
    }
  }

  async setRejections(client: Queryable, identityId: string, root: string, keys: readonly Omit<RejectionRecord, 'identityId'>[], decisionId: string | null): Promise<void> {
    await client.query('DELETE FROM identity_rejections WHERE identity_id = $1', [identityId]);
    await this.addRejections(client, identityId, root, keys, decisionId);
  }

  async addRejections(client: Queryable, identityId: string, root: string, keys: readonly Omit<RejectionRecord, 'identityId'>[], decisionId: string | null): Promise<void> {
    if (!keys.length) return;
    await client.query(
      `INSERT INTO identity_rejections (identity_id, output_root, sha256, face_index, model_pack, decision_id)
       SELECT $1, $2, k.sha256, k.face_index, k.model_pack, $6 FROM unnest($3::bytea[], $4::int[], $5::text[]) AS k(sha256, face_index, model_pack)
       ON CONFLICT DO NOTHING`,
      [identityId, root, keys.map((k) => shaToBytes(k.sha256)), keys.map((k) => k.faceIndex), keys.map((k) => k.modelPack), decisionId],
    );
  }
}

function encodeCursor(root: string, number: number): string {
  return Buffer.from(JSON.stringify([root, number]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [string, number] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only what encodeCursor makes: a root Postgres can hold as text, a number that fits the int4 column.
    const ok = Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !v[0].includes('\0') && !LONE_SURROGATE.test(v[0]) && Number.isInteger(v[1]);
    if (ok && (v[1] as number) >= 0 && (v[1] as number) <= 2_147_483_647) return [v[0] as string, v[1] as number];
  } catch {
    // falls through
  }
  throw new InvalidIdentityCursorError();
}
