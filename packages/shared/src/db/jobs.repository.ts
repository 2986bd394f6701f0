// Jobs table: creation (idempotent by key), guarded state transitions, counters, listing with cursor paging.
import type { JobParams } from '../params';
import type { ScanStats } from '../jobs/scan-stats';
import { allowedFrom, isTerminal, type JobCounters, type JobMode, type JobState } from '../jobs/state';
import type { Db, DbClient } from './pool';

/** A job row: what was asked (NewJob), what the scan stage set (ScanCounters), and its progress since. */
export interface JobRecord extends NewJob, ScanCounters {
  id: string;
  state: JobState;
  phase: string | null;
  modelPack: string | null;
  scanStats: ScanStats | null;
  embedded: number;
  newNoface: number;
  newErrors: number;
  newFaces: number;
  error: string | null;
  summary: Record<string, unknown> | null;
  createdAt: Date;
  startedAt: Date | null;
  scannedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface NewJob {
  mode: JobMode;
  bucket: string;
  outputRoot: string | null;
  params: JobParams;
  force: boolean;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/** What the scan stage sets (absolute values, so a retried scan writes the same thing again). */
export interface ScanCounters {
  found: number;
  skipped: number;
  aliases: number;
  cached: number;
  toEmbed: number;
  scanErrors: number;
  cachedNoface: number;
  cachedErrors: number;
  cachedFaces: number;
  batches: number;
}

export interface ListJobsQuery {
  state?: JobState;
  limit: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not valid');
    this.name = 'InvalidCursorError';
  }
}

const COLUMNS = `id, mode, bucket, output_root, params, force, callback_url, idempotency_key, request_hash, state, phase,
  model_pack, found, skipped, aliases, cached, to_embed, scan_errors, cached_noface, cached_errors, cached_faces,
  batches, scan_stats, embedded, new_noface, new_errors, new_faces, error, summary, created_at, started_at,
  scanned_at, finished_at, updated_at`;

type Row = Record<string, unknown>;

function toRecord(r: Row): JobRecord {
  return {
    id: r.id as string,
    mode: r.mode as JobMode,
    bucket: r.bucket as string,
    outputRoot: (r.output_root as string | null) ?? null,
    params: r.params as JobParams,
    force: r.force as boolean,
    callbackUrl: (r.callback_url as string | null) ?? null,
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    requestHash: (r.request_hash as string | null) ?? null,
    state: r.state as JobState,
    phase: (r.phase as string | null) ?? null,
    modelPack: (r.model_pack as string | null) ?? null,
    found: r.found as number,
    skipped: r.skipped as number,
    aliases: r.aliases as number,
    cached: r.cached as number,
    toEmbed: r.to_embed as number,
    scanErrors: r.scan_errors as number,
    cachedNoface: r.cached_noface as number,
    cachedErrors: r.cached_errors as number,
    cachedFaces: r.cached_faces as number,
    batches: r.batches as number,
    scanStats: (r.scan_stats as ScanStats | null) ?? null,
    embedded: r.embedded as number,
    newNoface: r.new_noface as number,
    newErrors: r.new_errors as number,
    newFaces: r.new_faces as number,
    error: (r.error as string | null) ?? null,
    summary: (r.summary as Record<string, unknown> | null) ?? null,
    createdAt: r.created_at as Date,
    startedAt: (r.started_at as Date | null) ?? null,
    scannedAt: (r.scanned_at as Date | null) ?? null,
    finishedAt: (r.finished_at as Date | null) ?? null,
    updatedAt: r.updated_at as Date,
  };
}

/** The public counters: the scan's cached part plus what this job's embed stage recorded. */
export function jobCounters(j: JobRecord): JobCounters {
  return {
    found: j.found,
    skipped: j.skipped,
    aliases: j.aliases,
    cached: j.cached,
    embedded: j.embedded,
    noface: j.cachedNoface + j.newNoface,
    errors: j.scanErrors + j.cachedErrors + j.newErrors,
    faces: j.cachedFaces + j.newFaces,
  };
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  // Only what encodeCursor makes: an ISO instant and a uuid (anything else would reach Postgres as a cast error).
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(at ?? '') && !Number.isNaN(Date.parse(at!));
  if (!at || !id || !iso || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new InvalidCursorError();
  return [at, id];
}

export class JobsRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a job; with an idempotency key already used, returns that job instead (`created: false`). */
  async create(job: NewJob): Promise<{ job: JobRecord; created: boolean }> {
    const { rows } = await this.db.query(
      `INSERT INTO jobs (mode, bucket, output_root, params, force, callback_url, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING ${COLUMNS}`,
      [job.mode, job.bucket, job.outputRoot, job.params, job.force, job.callbackUrl, job.idempotencyKey, job.requestHash],
    );
    if (rows[0]) return { job: toRecord(rows[0]), created: true };
    const existing = await this.db.query(`SELECT ${COLUMNS} FROM jobs WHERE idempotency_key = $1`, [job.idempotencyKey]);
    return { job: toRecord(existing.rows[0]), created: false };
  }

  async get(id: string): Promise<JobRecord | null> {
    const { rows } = await this.db.query(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async getState(id: string): Promise<JobState | null> {
    const { rows } = await this.db.query<{ state: JobState }>('SELECT state FROM jobs WHERE id = $1', [id]);
    return rows[0]?.state ?? null;
  }

  async getReport(id: string): Promise<{ state: JobState; report: unknown } | null> {
    const { rows } = await this.db.query<{ state: JobState; report: unknown }>(
      'SELECT state, report FROM jobs WHERE id = $1',
      [id],
    );
    return rows[0] ?? null;
  }

  async list(q: ListJobsQuery): Promise<{ items: JobRecord[]; nextCursor: string | null }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.state) {
      args.push(q.state);
      where.push(`state = $${args.length}`);
    }
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      args.push(at, id);
      where.push(`(created_at, id) < ($${args.length - 1}::timestamptz, $${args.length}::uuid)`);
    }
    args.push(q.limit + 1);
    const { rows } = await this.db.query(
      `SELECT ${COLUMNS} FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    const items = rows.slice(0, q.limit).map(toRecord);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /**
   * Moves a job to `to` when its current state allows it; returns false otherwise (e.g. it was cancelled
   * meanwhile), so a stage never resurrects a finished job.
   */
  async transition(
    id: string,
    to: JobState,
    set: { phase?: string | null; error?: string | null; modelPack?: string } = {},
    client: Db | DbClient = this.db,
  ): Promise<boolean> {
    const from = allowedFrom(to);
    const { rowCount } = await client.query(
      `UPDATE jobs SET state = $2,
         phase = CASE WHEN $4::boolean THEN $5 ELSE phase END,
         error = CASE WHEN $6::boolean THEN $7 ELSE error END,
         model_pack = COALESCE($8, model_pack),
         started_at = CASE WHEN $2 = 'scanning' THEN COALESCE(started_at, now()) ELSE started_at END,
         finished_at = CASE WHEN $2 IN ('completed', 'failed', 'cancelled') THEN now() ELSE finished_at END,
         updated_at = now()
       WHERE id = $1 AND state = ANY($3::text[])`,
      [id, to, from, 'phase' in set, set.phase ?? null, 'error' in set, set.error ?? null, set.modelPack ?? null],
    );
    return rowCount === 1;
  }

  async setPhase(id: string, phase: string): Promise<void> {
    await this.db.query('UPDATE jobs SET phase = $2, updated_at = now() WHERE id = $1', [id, phase]);
  }

  /** Live count of image files found while the walk runs (progress only; the final value comes with recordScan). */
  async setFound(id: string, found: number): Promise<void> {
    await this.db.query('UPDATE jobs SET found = $2, updated_at = now() WHERE id = $1 AND scanned_at IS NULL', [
      id,
      found,
    ]);
  }

  /** Ends the scan: writes its counters and statistics and moves the job to `embedding`. */
  async recordScan(id: string, c: ScanCounters, stats: ScanStats): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE jobs SET found = $2, skipped = $3, aliases = $4, cached = $5, to_embed = $6, scan_errors = $7,
         cached_noface = $8, cached_errors = $9, cached_faces = $10, batches = $11, scan_stats = $12,
         scanned_at = COALESCE(scanned_at, now()), state = 'embedding', phase = 'embedding', updated_at = now()
       WHERE id = $1 AND state IN ('scanning', 'embedding')`,
      [id, c.found, c.skipped, c.aliases, c.cached, c.toEmbed, c.scanErrors, c.cachedNoface, c.cachedErrors,
        c.cachedFaces, c.batches, stats],
    );
    return rowCount === 1;
  }

  /** Adds one embedded source to the job's counters (called inside the guarded per-file transaction). */
  async countEmbedded(
    client: DbClient,
    id: string,
    outcome: 'ok' | 'noface' | 'error',
    faces: number,
  ): Promise<void> {
    await client.query(
      `UPDATE jobs SET embedded = embedded + 1,
         new_noface = new_noface + $2, new_errors = new_errors + $3, new_faces = new_faces + $4, updated_at = now()
       WHERE id = $1`,
      [id, outcome === 'noface' ? 1 : 0, outcome === 'error' ? 1 : 0, faces],
    );
  }

  /** Completes the job; `callbackBody` (its manifest-update notification) is stored in the same UPDATE (outbox). */
  async complete(id: string, summary: Record<string, unknown>, report: unknown, callbackBody: string | null = null): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE jobs SET state = 'completed', phase = 'done', summary = $2, report = $3, finished_at = now(),
         callback_body = $5, updated_at = now()
       WHERE id = $1 AND state = ANY($4::text[])`,
      [id, summary, report, allowedFrom('completed'), callbackBody],
    );
    return rowCount === 1;
  }

  /** The callback of a completed job was queued: it is never queued again. */
  async markCallbackQueued(id: string): Promise<void> {
    await this.db.query('UPDATE jobs SET callback_queued_at = now() WHERE id = $1 AND callback_queued_at IS NULL', [id]);
  }

  /** Completed jobs whose callback was stored but not queued `olderThanMs` after completion (a crash in between). */
  async unqueuedCallbacks(olderThanMs: number, limit = 100): Promise<{ id: string; url: string; body: string }[]> {
    const { rows } = await this.db.query<{ id: string; url: string; body: string }>(
      `SELECT id, callback_url AS url, callback_body AS body FROM jobs
       WHERE state = 'completed' AND callback_body IS NOT NULL AND callback_queued_at IS NULL AND callback_url IS NOT NULL
         AND finished_at < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY finished_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows;
  }

  /** Stores a report without finishing the job (e.g. the scan part before discovery runs). */
  async setReport(id: string, report: unknown): Promise<void> {
    await this.db.query('UPDATE jobs SET report = $2, updated_at = now() WHERE id = $1', [id, report]);
  }

  async fail(id: string, error: string): Promise<boolean> {
    return this.transition(id, 'failed', { error, phase: 'failed' });
  }

  /** Cancels an active job; returns the job as it is afterwards, or null when it does not exist. */
  async cancel(id: string): Promise<{ job: JobRecord; cancelled: boolean } | null> {
    const { rows } = await this.db.query(
      `UPDATE jobs SET state = 'cancelled', phase = 'cancelled', finished_at = now(), updated_at = now()
       WHERE id = $1 AND state = ANY($2::text[]) RETURNING ${COLUMNS}`,
      [id, allowedFrom('cancelled')],
    );
    if (rows[0]) return { job: toRecord(rows[0]), cancelled: true };
    const job = await this.get(id);
    return job ? { job, cancelled: false } : null;
  }

  /** Active jobs not updated for `idleMs`: the reconciler checks their queue work. Oldest first, at most `limit`. */
  async idleActive(idleMs: number, limit = 100): Promise<{ id: string; state: JobState; scanned: boolean; allEmbedded: boolean; redrives: number }[]> {
    const { rows } = await this.db.query<{ id: string; state: JobState; scanned: boolean; all_embedded: boolean; redrives: number }>(
      `SELECT id, state, scanned_at IS NOT NULL AS scanned, embedded >= to_embed AS all_embedded, redrives FROM jobs
       WHERE state = ANY($1::text[]) AND updated_at < now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY updated_at LIMIT $3`,
      [allowedFrom('failed'), idleMs, limit],
    );
    return rows.map((r) => ({ id: r.id, state: r.state, scanned: r.scanned, allEmbedded: r.all_embedded, redrives: r.redrives }));
  }

  /** Counts one re-drive of an active job (and touches it, so the next pass gives the work time); the new count. */
  async countRedrive(id: string): Promise<number> {
    const { rows } = await this.db.query<{ redrives: number }>(
      `UPDATE jobs SET redrives = redrives + 1, updated_at = now() WHERE id = $1 AND state = ANY($2::text[]) RETURNING redrives`,
      [id, allowedFrom('failed')],
    );
    return rows[0]?.redrives ?? 0;
  }

  async isActive(id: string): Promise<boolean> {
    const state = await this.getState(id);
    return state !== null && !isTerminal(state);
  }
}
