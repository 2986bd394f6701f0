// A job's faces streamed from Postgres by binary COPY into a FaceTable match the row-by-row read, field for field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFace } from '@facesets/shared/clustering/face-table';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { mulberry32 } from '@facesets/shared/clustering/prng';
import { normalize } from '@facesets/shared/clustering/vectors';
import type { Face, FileOk } from '@facesets/shared/engine/types';
import { createTestEnv, type TestEnv } from '../support/test-env';

const PACK = "pack-with-'quote";
let env: TestEnv;
let jobId: string;
let otherJob: string;

const ok = (sha256: string, faces: Face[]): FileOk => ({
  ok: true, path: `/b/${sha256}.jpg`, sha256, size: 1, format: 'jpeg', width: 900, height: 900, faces,
  timings: { decode: 0, detect: 0, landmark: 0, embed: 0 },
});

beforeAll(async () => {
  env = await createTestEnv();
  const job = async (): Promise<string> =>
    (await env.db.query<{ id: string }>(`INSERT INTO jobs (mode, bucket, params) VALUES ('discover', '/b', '{}') RETURNING id`)).rows[0]!.id;
  jobId = await job();
  otherJob = await job();
  const faces = new FacesRepository(env.db);
  const r = mulberry32(5);
  // 150 sources × 0–3 faces: ~500 rows of ~2.2 kB, so rows straddle the COPY stream's chunks many times over.
  for (let s = 0; s < 150; s++) {
    const sha = (s * 7919).toString(16).padStart(64, '0');
    const list: Face[] = Array.from({ length: s % 4 }, (_, k) => ({
      box: [s, k, s + 100.5, k + 120.25],
      kps: [[1, 2], [3, 4], [5, 6], [7, 8], [9, s + 0.5]],
      detScore: r(),
      faceShort: 80 + s,
      blur: 10 * r(),
      embedding: normalize(Array.from({ length: 512 }, () => r() - 0.5)),
    }));
    const owner = s % 10 === 9 ? otherJob : jobId;
    await env.db.query('INSERT INTO job_sources (job_id, sha256, path, cached) VALUES ($1, $2, $3, false)', [owner, Buffer.from(sha, 'hex'), `/b/${sha}.jpg`]);
    await faces.recordFile(owner, PACK, sha, ok(sha, list));
  }
});

afterAll(async () => {
  await env?.close();
});

describe('FacesRepository.jobFaceTable', () => {
  it('streams exactly the job’s faces, in (sha256, faceIndex) order, equal to the row-by-row read', async () => {
    const repo = new FacesRepository(env.db);
    const rows = await repo.facesOfJob(jobId, PACK);
    const table = await repo.jobFaceTable(jobId, PACK);
    expect(rows.length).toBeGreaterThan(150);
    expect(table.n).toBe(rows.length);
    expect(table.shas.length).toBe(new Set(rows.map((f) => f.sha256)).size);
    const fromTable = Array.from({ length: table.n }, (_, i) => {
      const f = tableFace(table, i);
      return { ...f, embedding: Array.from(f.embedding) };
    });
    // The text protocol prints a real as its shortest decimal; the binary one gives the float32 itself: same number.
    const f32 = Math.fround;
    expect(fromTable).toEqual(
      rows.map((f) => ({ ...f, detScore: f32(f.detScore), blur: f32(f.blur), faceShort: f32(f.faceShort), embedding: Array.from(f.embedding) })),
    );
  });

  it('gives an empty table for a job without faces, and refuses an id that is not a uuid', async () => {
    const repo = new FacesRepository(env.db);
    expect((await repo.jobFaceTable(jobId, 'another-pack')).n).toBe(0);
    await expect(repo.jobFaceTable("x' OR 1=1 --", PACK)).rejects.toThrow(/not a uuid/);
  });
});
