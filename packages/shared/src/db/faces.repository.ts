// Face, noface and error records: a file's result replaces its previous faces in one transaction.
import { endianness } from 'node:os';
import type { DiscoveryFace } from '../clustering/types';
import type { Box, Face, FileResult } from '../engine/types';
import { JobsRepository } from './jobs.repository';
import { inTransaction, type Db } from './pool';
import { shaToBytes, shaToHex } from './sha';

export type SourceStatus = 'ok' | 'noface' | 'error';

/** A stored face: the engine's Face, keyed by its source file and position in it. */
export interface FaceRecord extends Face {
  sha256: string;
  faceIndex: number;
}

export interface RecordOutcome {
  status: SourceStatus;
  faces: number;
  /** False when this job had already recorded the file (a retried batch): counters were left alone. */
  counted: boolean;
}

/** Sources per facesOfSources query: keeps the bytea[] parameter and the result set of one round trip moderate. */
const SHAS_PER_QUERY = 5_000;

const LITTLE_ENDIAN = endianness() === 'LE';
/** Faces per INSERT statement: 7 parameters each stays far below Postgres' 65535. */
const FACES_PER_INSERT = 1000;

/** 512 float32 → 2048 bytes little-endian. */
export function embeddingToBytes(v: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const out = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => out.writeFloatLE(x, i * 4));
  return out;
}

export function bytesToEmbedding(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(b);
  else for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

export class FacesRepository {
  private readonly jobs: JobsRepository;

  constructor(private readonly db: Db) {
    this.jobs = new JobsRepository(db);
  }

  /**
   * Records one file's result for a job in ONE transaction: the cached source row, its faces (old ones of this
   * model pack deleted first, new ones in multi-row INSERTs), the job's verdict on it, and — only the first time
   * this job records it — the job's counters. A batch re-run after a crash therefore converges without
   * duplicate rows or double counts.
   */
  async recordFile(jobId: string, modelPack: string, sha256: string, result: FileResult): Promise<RecordOutcome> {
    const sha = shaToBytes(sha256);
    // Cache only what the engine confirms is the content the scan hashed; a file changed or gone since the
    // scan is an error of this job, not of that content.
    const confirmed = result.sha256 === sha256;
    const status: SourceStatus = !result.ok || !confirmed ? 'error' : result.faces.length ? 'ok' : 'noface';
    const reason = !result.ok
      ? result.error
      : !confirmed
        ? `file changed after the scan (sha256 is now ${result.sha256})`
        : null;
    const faces = result.ok && confirmed ? result.faces : [];
    return inTransaction(this.db, async (client) => {
      if (confirmed) {
        await client.query(
          `INSERT INTO sources (sha256, model_pack, size, format, width, height, status, reason, face_count, job_id, captured_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (sha256, model_pack) DO UPDATE SET size = EXCLUDED.size, format = EXCLUDED.format,
             width = EXCLUDED.width, height = EXCLUDED.height, status = EXCLUDED.status, reason = EXCLUDED.reason,
             face_count = EXCLUDED.face_count, job_id = EXCLUDED.job_id, captured_at = EXCLUDED.captured_at,
             embedded_at = now()`,
          [
            sha,
            modelPack,
            result.size ?? null,
            result.ok ? result.format : null,
            result.ok ? result.width : null,
            result.ok ? result.height : null,
            status,
            reason,
            faces.length,
            jobId,
            result.ok ? (result.capturedAt ?? null) : null,
          ],
        );
        await client.query('DELETE FROM faces WHERE sha256 = $1 AND model_pack = $2', [sha, modelPack]);
        for (let start = 0; start < faces.length; start += FACES_PER_INSERT) {
          await insertFaces(client, sha, modelPack, faces.slice(start, start + FACES_PER_INSERT), start);
        }
      }
      const marked = await client.query(
        `UPDATE job_sources SET outcome = $3, reason = $4, faces = $5, processed_at = now()
         WHERE job_id = $1 AND sha256 = $2 AND processed_at IS NULL`,
        [jobId, sha, status, reason, faces.length],
      );
      const counted = marked.rowCount === 1;
      if (counted) await this.jobs.countEmbedded(client, jobId, status, faces.length);
      return { status, faces: faces.length, counted };
    });
  }

  /** Faces of the given sources for one model pack, embeddings decoded. */
  async facesOf(sha256s: string[], modelPack: string): Promise<FaceRecord[]> {
    const { rows } = await this.db.query(
      `SELECT sha256, face_index, box, kps, det_score, face_short, blur, embedding FROM faces
       WHERE model_pack = $1 AND sha256 = ANY($2::bytea[]) ORDER BY sha256, face_index`,
      [modelPack, sha256s.map(shaToBytes)],
    );
    return rows.map(toFaceRecord);
  }

  /** Every face of the sources a job saw (cached and newly embedded), for coverage and discovery. */
  async facesOfJob(jobId: string, modelPack: string): Promise<FaceRecord[]> {
    const { rows } = await this.db.query(
      `SELECT f.sha256, f.face_index, f.box, f.kps, f.det_score, f.face_short, f.blur, f.embedding
       FROM job_sources js JOIN faces f ON f.sha256 = js.sha256 AND f.model_pack = $2
       WHERE js.job_id = $1 ORDER BY f.sha256, f.face_index`,
      [jobId, modelPack],
    );
    return rows.map(toFaceRecord);
  }

  /** Every face of a job's sources with every bucket path the job saw for each source (byte-duplicates included). */
  async facesOfJobWithPaths(jobId: string, modelPack: string): Promise<DiscoveryFace[]> {
    const [records, paths] = await Promise.all([
      this.facesOfJob(jobId, modelPack),
      this.db.query<{ sha256: Buffer; path: string }>('SELECT sha256, path FROM job_paths WHERE job_id = $1 ORDER BY path', [jobId]),
    ]);
    const bySha = new Map<string, string[]>();
    for (const r of paths.rows) {
      const sha = shaToHex(r.sha256);
      const list = bySha.get(sha);
      if (list) list.push(r.path);
      else bySha.set(sha, [r.path]);
    }
    return records.map((f) => ({ ...f, paths: bySha.get(f.sha256) ?? [] }));
  }

  /** Faces of any number of sources (distinct sha256s), in round trips of SHAS_PER_QUERY sources. */
  async facesOfSources(sha256s: Iterable<string>, modelPack: string): Promise<FaceRecord[]> {
    const shas = [...new Set(sha256s)];
    const out: FaceRecord[] = [];
    for (let i = 0; i < shas.length; i += SHAS_PER_QUERY) out.push(...(await this.facesOf(shas.slice(i, i + SHAS_PER_QUERY), modelPack)));
    return out;
  }

  /** EXIF capture time of each dated source among these (undated and unknown sources are absent). */
  async captureTimesOf(sha256s: string[], modelPack: string): Promise<Map<string, Date>> {
    const { rows } = await this.db.query<{ sha256: Buffer; captured_at: Date }>(
      `SELECT sha256, captured_at FROM sources
       WHERE model_pack = $1 AND sha256 = ANY($2::bytea[]) AND captured_at IS NOT NULL`,
      [modelPack, sha256s.map(shaToBytes)],
    );
    return new Map(rows.map((r) => [shaToHex(r.sha256), r.captured_at]));
  }

  async countFaces(sha256: string, modelPack: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      'SELECT count(*) AS n FROM faces WHERE sha256 = $1 AND model_pack = $2',
      [shaToBytes(sha256), modelPack],
    );
    return rows[0]?.n ?? 0;
  }
}

async function insertFaces(
  client: { query: Db['query'] },
  sha: Buffer,
  modelPack: string,
  faces: Face[],
  firstIndex: number,
): Promise<void> {
  const values: string[] = [];
  const args: unknown[] = [sha, modelPack];
  faces.forEach((f, i) => {
    const p = args.length;
    values.push(`($1, $2, $${p + 1}, $${p + 2}::real[], $${p + 3}::real[], $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7})`);
    args.push(firstIndex + i, f.box, f.kps.flat(), f.detScore, f.faceShort, f.blur, embeddingToBytes(f.embedding));
  });
  await client.query(
    `INSERT INTO faces (sha256, model_pack, face_index, box, kps, det_score, face_short, blur, embedding)
     VALUES ${values.join(', ')}`,
    args,
  );
}

function toFaceRecord(r: Record<string, unknown>): FaceRecord {
  const k = r.kps as number[];
  return {
    sha256: shaToHex(r.sha256 as Buffer),
    faceIndex: r.face_index as number,
    box: r.box as Box,
    kps: [0, 1, 2, 3, 4].map((i) => [k[2 * i], k[2 * i + 1]]) as FaceRecord['kps'],
    detScore: r.det_score as number,
    faceShort: r.face_short as number,
    blur: r.blur as number,
    embedding: bytesToEmbedding(r.embedding as Buffer),
  };
}
