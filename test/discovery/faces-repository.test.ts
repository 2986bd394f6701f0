// FacesRepository's discovery reads against a migrated database: a job's faces with all their paths, and member lookups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import type { Face, FileOk } from '@facesets/shared/engine/types';
import { createTestEnv, type TestEnv } from '../support/test-env';

const PACK = 'test-pack';
const shaA = 'a'.repeat(64), shaB = 'b'.repeat(64), shaC = 'c'.repeat(64);

function face(x: number): Face {
  const embedding = new Float32Array(512);
  embedding[x % 512] = 1;
  return {
    box: [x, 10, x + 100, 120],
    kps: [[x + 30, 50], [x + 70, 50], [x + 50, 70], [x + 35, 95], [x + 65, 95]],
    detScore: 0.9,
    faceShort: 100,
    blur: 50,
    embedding,
  };
}

const ok = (sha256: string, path: string, faces: Face[]): FileOk => ({
  ok: true, path, sha256, size: 1, format: 'jpeg', width: 500, height: 500, faces,
  timings: { decode: 0, detect: 0, landmark: 0, embed: 0 },
});

let env: TestEnv;
let jobId: string;

beforeAll(async () => {
  env = await createTestEnv();
  const { rows } = await env.db.query<{ id: string }>(
    `INSERT INTO jobs (mode, bucket, output_root, params, model_pack) VALUES ('discover', '/b', '/out', '{}', $1) RETURNING id`,
    [PACK],
  );
  jobId = rows[0]!.id;
  // The job saw A (two paths: a byte-duplicate) and B; C belongs to another job (an existing set's member).
  await env.db.query(
    `INSERT INTO job_sources (job_id, sha256, path, cached) VALUES ($1, $2, '/b/a.jpg', false), ($1, $3, '/b/b.jpg', false)`,
    [jobId, Buffer.from(shaA, 'hex'), Buffer.from(shaB, 'hex')],
  );
  await env.db.query(
    `INSERT INTO job_paths (job_id, path, sha256) VALUES ($1, '/b/a.jpg', $2), ($1, '/b/sub/a copy.jpg', $2), ($1, '/b/b.jpg', $3)`,
    [jobId, Buffer.from(shaA, 'hex'), Buffer.from(shaB, 'hex')],
  );
  const faces = new FacesRepository(env.db);
  await faces.recordFile(jobId, PACK, shaA, ok(shaA, '/b/a.jpg', [face(0), face(200)]));
  await faces.recordFile(jobId, PACK, shaB, ok(shaB, '/b/b.jpg', [face(7)]));
  await faces.recordFile(jobId, PACK, shaC, ok(shaC, '/elsewhere/c.jpg', [face(9)]));
});

afterAll(async () => {
  await env?.close();
});

describe('faces repository for discovery', () => {
  it('loads every face of the job with every bucket path of its source', async () => {
    const faces = await new FacesRepository(env.db).facesOfJobWithPaths(jobId, PACK);
    expect(faces.map((f) => [f.sha256.slice(0, 1), f.faceIndex, f.paths])).toEqual([
      ['a', 0, ['/b/a.jpg', '/b/sub/a copy.jpg']],
      ['a', 1, ['/b/a.jpg', '/b/sub/a copy.jpg']],
      ['b', 0, ['/b/b.jpg']],
    ]);
    expect(faces[1]!.box).toEqual([200, 10, 300, 120]);
    expect(faces[1]!.kps[4]).toEqual([265, 95]);
    expect(faces[2]!.embedding[7]).toBe(1);
    expect(faces[2]!.embedding).toHaveLength(512);
  });

  it('finds faces of any source of the model pack for existing members, and none of another pack', async () => {
    const repo = new FacesRepository(env.db);
    const found = await repo.facesOfSources([shaC, shaA, shaC], PACK);
    expect(found.map((f) => `${f.sha256.slice(0, 1)}${f.faceIndex}`).sort()).toEqual(['a0', 'a1', 'c0']);
    expect(await repo.facesOfSources([shaC], 'other-pack')).toEqual([]);
  });
});
