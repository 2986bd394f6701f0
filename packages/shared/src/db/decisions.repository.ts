// The decision log: one row per person's correction, the identities it touched, and what undo restores.
import type { DecisionKind } from '../identities/contracts';
import type { IdentitySnapshot } from '../identities/records';
import type { Db, DbClient } from './pool';

type Queryable = Pick<Db, 'query'> | DbClient;

export interface DecisionRecord {
  id: string;
  outputRoot: string;
  identityId: string;
  kind: DecisionKind;
  faceIds: string[];
  identityIds: string[];
  detail: Record<string, unknown>;
  before: IdentitySnapshot[];
  afterVersions: Record<string, number>;
  actor: string;
  undoneBy: string | null;
  createdAt: Date;
}

export type NewDecision = Pick<DecisionRecord, 'outputRoot' | 'identityId' | 'kind' | 'faceIds' | 'identityIds' | 'detail' | 'before' | 'actor'>;

function toDecision(r: Record<string, unknown>): DecisionRecord {
  return {
    id: String(r.id),
    outputRoot: r.output_root as string,
    identityId: r.identity_id as string,
    kind: r.kind as DecisionKind,
    faceIds: r.face_ids as string[],
    identityIds: r.identity_ids as string[],
    detail: r.detail as Record<string, unknown>,
    before: (r.before as IdentitySnapshot[] | undefined) ?? [],
    afterVersions: r.after_versions as Record<string, number>,
    actor: r.actor as string,
    undoneBy: r.undone_by === null || r.undone_by === undefined ? null : String(r.undone_by),
    createdAt: r.created_at as Date,
  };
}

const COLUMNS = 'id, output_root, identity_id, kind, face_ids, identity_ids, detail, before, after_versions, actor, undone_by, created_at';

export class DecisionsRepository {
  constructor(private readonly db: Db) {}

  /** Inserts the decision and links every identity it touched (identityId and identityIds). */
  async insert(client: Queryable, d: NewDecision): Promise<string> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO decisions (output_root, identity_id, kind, face_ids, identity_ids, detail, before, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [d.outputRoot, d.identityId, d.kind, d.faceIds, d.identityIds, JSON.stringify(d.detail), JSON.stringify(d.before), d.actor],
    );
    const id = String(rows[0]!.id);
    await client.query(
      `INSERT INTO decision_identities (decision_id, identity_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [id, [...new Set([d.identityId, ...d.identityIds])]],
    );
    return id;
  }

  async setAfterVersions(client: Queryable, id: string, versions: Record<string, number>): Promise<void> {
    await client.query('UPDATE decisions SET after_versions = $2 WHERE id = $1', [id, JSON.stringify(versions)]);
  }

  async markUndone(client: Queryable, id: string, undoneBy: string): Promise<void> {
    await client.query('UPDATE decisions SET undone_by = $2 WHERE id = $1', [id, undoneBy]);
  }

  /** Every decision that touched the identity, newest first; `before` (undo's snapshots, large) is left out: []. */
  async history(identityId: string, limit = 500): Promise<DecisionRecord[]> {
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS.split(', ').filter((c) => c !== 'before').map((c) => `d.${c}`).join(', ')} FROM decisions d
       JOIN decision_identities di ON di.decision_id = d.id WHERE di.identity_id = $1 ORDER BY d.id DESC LIMIT $2`,
      [identityId, limit],
    );
    return rows.map(toDecision);
  }

  /** The newest decision on the identity that can still be undone (not an undo, not undone). */
  async lastUndoable(identityId: string, q: Queryable = this.db): Promise<DecisionRecord | null> {
    const { rows } = await q.query(
      `SELECT ${COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')} FROM decisions d
       JOIN decision_identities di ON di.decision_id = d.id
       WHERE di.identity_id = $1 AND d.kind <> 'undo' AND d.undone_by IS NULL ORDER BY d.id DESC LIMIT 1`,
      [identityId],
    );
    return rows[0] ? toDecision(rows[0]) : null;
  }
}
