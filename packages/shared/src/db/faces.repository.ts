// Face, noface and error records: a file's result replaces its previous faces in one transaction.
import { endianness } from 'node:os';
import { to as copyTo } from 'pg-copy-streams';
import { allocateFaceTable, tableFace, type FaceTable } from '../clustering/face-table';
import type { DiscoveryFace } from '../clustering/types';
import { POSE_VERSION, type Pose } from '../curation/pose';
import { BLUR_VERSION } from '../engine/blur';
import type { Box, Face, FileResult } from '../engine/types';
import { readCopyBinary } from './copy-binary';
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
          `INSERT INTO sources (sha256, model_pack, size, format, width, height, status, reason, face_count, job_id, captured_at, blur_version, pose_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           ON CONFLICT (sha256, model_pack) DO UPDATE SET size = EXCLUDED.size, format = EXCLUDED.format,
             width = EXCLUDED.width, height = EXCLUDED.height, status = EXCLUDED.status, reason = EXCLUDED.reason,
             face_count = EXCLUDED.face_count, job_id = EXCLUDED.job_id, captured_at = EXCLUDED.captured_at,
             embedded_at = now(), blur_version = EXCLUDED.blur_version, pose_version = EXCLUDED.pose_version`,
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
            BLUR_VERSION,
            POSE_VERSION,
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

  /** The boxes of a cached source's faces, by face index (what a blur re-measure needs). */
  async boxesOf(sha256: string, modelPack: string): Promise<Box[]> {
    const { rows } = await this.db.query<{ box: Box }>(
      'SELECT box FROM faces WHERE sha256 = $1 AND model_pack = $2 ORDER BY face_index',
      [shaToBytes(sha256), modelPack],
    );
    return rows.map((r) => r.box);
  }

  /**
   * Records a re-measure of a cached source for a job in ONE transaction (the engine run on its known boxes:
   * `ProcessOptions.knownBoxes`): the faces' new blur, keypoints, pose and shot thumbnail, the source's blur_version
   * and pose_version, then the job's verdict (ok, or error when the file changed or failed to decode, which leaves
   * the cache as it was and keeps its old-definition faces out of this job). Counters are left alone: the source was
   * counted as cached by the scan. A re-run converges (processed_at guard).
   */
  async recordRemeasure(jobId: string, modelPack: string, sha256: string, result: FileResult): Promise<RecordOutcome> {
    const sha = shaToBytes(sha256);
    return inTransaction(this.db, async (client) => {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM faces WHERE sha256 = $1 AND model_pack = $2',
        [sha, modelPack],
      );
      const n = rows[0]?.n ?? 0;
      const reason = !result.ok
        ? result.error
        : result.sha256 !== sha256
          ? `file changed after the scan (sha256 is now ${result.sha256})`
          : result.faces.length !== n
            ? `re-measure: ${result.faces.length} values for ${n} faces`
            : null;
      if (reason === null && result.ok) {
        // One statement per face: a source holds a handful, and this runs once per cached source and definition.
        for (const [i, f] of result.faces.entries()) {
          await client.query(
            `UPDATE faces SET blur = $4, kps = $5::real[], pose = $6::real[], shot = $7
             WHERE sha256 = $1 AND model_pack = $2 AND face_index = $3`,
            [sha, modelPack, i, f.blur, f.kps.flat(), poseArray(f.pose), f.shot ? Buffer.from(f.shot) : null],
          );
        }
        await client.query('UPDATE sources SET blur_version = $3, pose_version = $4 WHERE sha256 = $1 AND model_pack = $2', [sha, modelPack, BLUR_VERSION, POSE_VERSION]);
      }
      const status: SourceStatus = reason === null ? 'ok' : 'error';
      const faces = reason === null ? n : 0;
      const marked = await client.query(
        `UPDATE job_sources SET outcome = $3, reason = $4, faces = $5, processed_at = now()
         WHERE job_id = $1 AND sha256 = $2 AND processed_at IS NULL`,
        [jobId, sha, status, reason, faces],
      );
      return { status, faces, counted: marked.rowCount === 1 };
    });
  }

  /** Shot thumbnails of these faces (those that have one), by face key `sha256:faceIndex`. */
  async shotsOf(keys: readonly { sha256: string; faceIndex: number }[], modelPack: string): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (let i = 0; i < keys.length; i += SHAS_PER_QUERY) {
      const part = keys.slice(i, i + SHAS_PER_QUERY);
      const { rows } = await this.db.query<{ sha256: Buffer; face_index: number; shot: Buffer }>(
        `SELECT f.sha256, f.face_index, f.shot FROM faces f
         JOIN unnest($2::bytea[], $3::smallint[]) AS k(sha256, face_index) ON k.sha256 = f.sha256 AND k.face_index = f.face_index
         WHERE f.model_pack = $1 AND f.shot IS NOT NULL`,
        [modelPack, part.map((k) => shaToBytes(k.sha256)), part.map((k) => k.faceIndex)],
      );
      for (const r of rows) out.set(`${shaToHex(r.sha256)}:${r.face_index}`, new Uint8Array(r.shot));
    }
    return out;
  }

  /** Faces of the given sources for one model pack, embeddings decoded. */
  async facesOf(sha256s: string[], modelPack: string): Promise<FaceRecord[]> {
    const { rows } = await this.db.query(
      `SELECT sha256, face_index, box, kps, det_score, face_short, blur, embedding, pose FROM faces
       WHERE model_pack = $1 AND sha256 = ANY($2::bytea[]) ORDER BY sha256, face_index`,
      [modelPack, sha256s.map(shaToBytes)],
    );
    return rows.map(toFaceRecord);
  }

  /**
   * Every face of the sources a job saw (cached and newly embedded), for coverage and discovery: only faces
   * whose blur has the current definition, so the gates never compare scores of two definitions.
   */
  async facesOfJob(jobId: string, modelPack: string): Promise<FaceRecord[]> {
    const { rows } = await this.db.query(
      `SELECT f.sha256, f.face_index, f.box, f.kps, f.det_score, f.face_short, f.blur, f.embedding, f.pose
       FROM job_sources js JOIN faces f ON f.sha256 = js.sha256 AND f.model_pack = $2
       JOIN sources s ON s.sha256 = f.sha256 AND s.model_pack = f.model_pack AND s.blur_version = $3
       WHERE js.job_id = $1 ORDER BY f.sha256, f.face_index`,
      [jobId, modelPack, BLUR_VERSION],
    );
    return rows.map(toFaceRecord);
  }

  /**
   * Every face of the sources a job saw as one FaceTable, streamed with binary COPY straight into typed arrays:
   * no row objects, no text parsing (a million faces load in ~2.1 GB, the embeddings' own size).
   */
  async jobFaceTable(jobId: string, modelPack: string, dim = 512): Promise<FaceTable> {
    if (!UUID.test(jobId)) throw new Error(`jobFaceTable: job id ${JSON.stringify(jobId)} is not a uuid`);
    const client = await this.db.connect();
    try {
      // COPY takes no bind parameters: the job id is checked above, the model pack quoted by the driver.
      // Only faces whose blur has the current definition (BLUR_VERSION): one job never mixes two (see facesOfJob).
      const from = `FROM job_sources js JOIN faces f ON f.sha256 = js.sha256 AND f.model_pack = ${client.escapeLiteral(modelPack)}
        JOIN sources s ON s.sha256 = f.sha256 AND s.model_pack = f.model_pack AND s.blur_version = ${Number(BLUR_VERSION)}
        WHERE js.job_id = '${jobId}'`;
      const { rows } = await client.query<{ n: number }>(`SELECT count(*) AS n ${from}`);
      const table = allocateFaceTable(rows[0]?.n ?? 0, dim);
      const columns = [
        'f.sha256', 'f.face_index::int4',
        ...[1, 2, 3, 4].map((k) => `f.box[${k}]`),
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => `f.kps[${k}]`),
        'f.det_score', 'f.face_short', 'f.blur', 'f.embedding',
        // No pose yet (cached before it was measured): NaN, which tableFace reads as absent.
        ...[1, 2, 3].map((k) => `COALESCE(f.pose[${k}], 'NaN'::real)`),
      ];
      const emb = new Uint8Array(table.embeddings.data.buffer);
      const bytesPerRow = dim * 4;
      let row = 0, lastSha: Buffer | null = null;
      const stream = client.query(copyTo(`COPY (SELECT ${columns.join(', ')} ${from} ORDER BY f.sha256, f.face_index) TO STDOUT (FORMAT binary)`));
      const read = await readCopyBinary(stream, columns.length, (buf, start, length) => {
        if (row >= table.n) throw new Error(`jobFaceTable: job ${jobId} gained faces while they were read`);
        const sha = buf.subarray(start[0]!, start[0]! + length[0]!);
        if (!lastSha || !sha.equals(lastSha)) {
          table.shas.push(sha.toString('hex'));
          lastSha = Buffer.from(sha);
        }
        table.source[row] = table.shas.length - 1;
        table.faceIndex[row] = buf.readInt32BE(start[1]!);
        for (let k = 0; k < 4; k++) table.box[row * 4 + k] = buf.readFloatBE(start[2 + k]!);
        for (let k = 0; k < 10; k++) table.kps[row * 10 + k] = buf.readFloatBE(start[6 + k]!);
        table.detScore[row] = buf.readFloatBE(start[16]!);
        table.faceShort[row] = buf.readFloatBE(start[17]!);
        table.blur[row] = buf.readFloatBE(start[18]!);
        if (length[19] !== bytesPerRow) throw new Error(`jobFaceTable: embedding of ${length[19]} bytes, expected ${bytesPerRow}`);
        const e = buf.subarray(start[19]!, start[19]! + bytesPerRow);
        if (LITTLE_ENDIAN) emb.set(e, row * bytesPerRow);
        else for (let k = 0; k < dim; k++) table.embeddings.data[row * dim + k] = e.readFloatLE(k * 4);
        for (let k = 0; k < 3; k++) table.pose[row * 3 + k] = buf.readFloatBE(start[20 + k]!);
        row++;
      });
      return read === table.n ? table : truncateTable(table, read);
    } finally {
      client.release();
    }
  }

  /**
   * Every face of a job's sources with every bucket path the job saw for each source (byte-duplicates included).
   * Streamed by jobFaceTable: the embeddings are views into its one buffer, which discovery then uses as is.
   */
  async facesOfJobWithPaths(jobId: string, modelPack: string): Promise<DiscoveryFace[]> {
    const [table, paths] = await Promise.all([
      this.jobFaceTable(jobId, modelPack),
      this.db.query<{ sha256: Buffer; path: string }>('SELECT sha256, path FROM job_paths WHERE job_id = $1 ORDER BY path', [jobId]),
    ]);
    const bySha = new Map<string, string[]>();
    for (const r of paths.rows) {
      const sha = shaToHex(r.sha256);
      const list = bySha.get(sha);
      if (list) list.push(r.path);
      else bySha.set(sha, [r.path]);
    }
    return Array.from({ length: table.n }, (_, i) => {
      const f = tableFace(table, i);
      return { ...f, paths: bySha.get(f.sha256) ?? [] };
    });
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
    values.push(`($1, $2, $${p + 1}, $${p + 2}::real[], $${p + 3}::real[], $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}, $${p + 8}::real[], $${p + 9})`);
    args.push(firstIndex + i, f.box, f.kps.flat(), f.detScore, f.faceShort, f.blur, embeddingToBytes(f.embedding), poseArray(f.pose), f.shot ? Buffer.from(f.shot) : null);
  });
  await client.query(
    `INSERT INTO faces (sha256, model_pack, face_index, box, kps, det_score, face_short, blur, embedding, pose, shot)
     VALUES ${values.join(', ')}`,
    args,
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first n rows of a table (faces removed between the count and the read). */
function truncateTable(t: FaceTable, n: number): FaceTable {
  const dim = t.embeddings.dim;
  return {
    ...t,
    n,
    embeddings: { data: t.embeddings.data.subarray(0, n * dim), n, dim },
    source: t.source.subarray(0, n),
    faceIndex: t.faceIndex.subarray(0, n),
    box: t.box.subarray(0, n * 4),
    kps: t.kps.subarray(0, n * 10),
    detScore: t.detScore.subarray(0, n),
    faceShort: t.faceShort.subarray(0, n),
    blur: t.blur.subarray(0, n),
    pose: t.pose.subarray(0, n * 3),
  };
}

/** A pose as the faces.pose column holds it: [yaw, pitch, roll], or NULL. */
function poseArray(p: Pose | undefined): number[] | null {
  return p ? [p.yaw, p.pitch, p.roll] : null;
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
    ...(Array.isArray(r.pose) ? { pose: { yaw: (r.pose as number[])[0]!, pitch: (r.pose as number[])[1]!, roll: (r.pose as number[])[2]! } } : {}),
  };
}
