// A re-scan re-measures the blur (and pose, shot thumbnail) of faces cached under an old definition, without re-embedding, and no job
// ever sees both definitions: the cluster stage's gates get only new scores.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSE_VERSION } from '@facesets/shared/curation/pose';
import { BLUR_VERSION } from '@facesets/shared/engine/blur';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { ReportsRepository } from '@facesets/shared/db/reports.repository';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { closeSharedEngine, getJob, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
let bucket: string;

beforeAll(async () => {
  env = await createTestEnv();
  bucket = await env.fixtureBucket('people', 'people');
  app = await startApi(env);
  workers = await startWorkers(env);
});

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

interface StoredFace {
  key: string;
  blur: number;
  embedding: string;
  pose: number[] | null;
  shot: string | null;
}

async function storedFaces(): Promise<Map<string, StoredFace>> {
  const { rows } = await env.db.query(
    `SELECT encode(sha256, 'hex') || ':' || face_index AS key, blur, encode(embedding, 'hex') AS embedding, pose,
       encode(shot, 'hex') AS shot FROM faces`,
  );
  return new Map(rows.map((r) => [r.key as string, r as StoredFace]));
}

describe('blur definition on a re-scan', () => {
  let fresh: Map<string, StoredFace>;
  let firstId: string;

  it('writes faces with the current blur definition', async () => {
    firstId = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, firstId);
    expect(job.state).toBe('completed');
    fresh = await storedFaces();
    expect(fresh.size).toBeGreaterThan(40);
    const { rows } = await env.db.query('SELECT DISTINCT blur_version FROM sources');
    expect(rows.map((r) => r.blur_version)).toEqual([BLUR_VERSION]);
  });

  it('re-measures old-definition blur of cached faces without re-embedding, and discovery gates see the new scores', async () => {
    // What the first pipeline left behind: version-1 sources whose faces score far below the minBlur gate.
    await env.db.query('UPDATE sources SET blur_version = 1');
    await env.db.query('UPDATE faces SET blur = 1');
    const outputRoot = join(env.outputDir, 'sets');
    await mkdir(outputRoot);
    const id = await submit(app, { bucket, outputRoot, params: { minFaces: 3 } });
    const job = await waitForJob(app, id);
    expect(job.error).toBeNull();
    expect(job.state).toBe('completed');
    const first = await getJob(app, firstId);
    expect(job.counters).toMatchObject({ cached: first.counters.embedded, embedded: 0, faces: first.counters.faces });

    const after = await storedFaces();
    expect(after.size).toBe(fresh.size);
    for (const [key, face] of fresh) {
      const now = after.get(key)!;
      expect(now.embedding, `embedding of ${key}`).toBe(face.embedding);
      expect(now.blur, `blur of ${key}`).toBeCloseTo(face.blur, 2);
    }
    const versions = await env.db.query(`SELECT DISTINCT blur_version FROM sources WHERE status = 'ok'`);
    expect(versions.rows.map((r) => r.blur_version)).toEqual([BLUR_VERSION]);

    // Had the gates seen the stored 1s, every face would have failed minBlur and no set been made.
    const report = (await app.inject({ method: 'GET', url: `/jobs/${id}/report` })).json();
    expect(report.discovery.facesets.filter((f: { exported: number }) => f.exported > 0).length).toBeGreaterThan(0);
    expect(report.discovery.gateDropped.minBlur).toBeLessThan(report.discovery.faces / 4);
    expect(report.scan.faces.blur.min).toBeGreaterThan(1);
  });

  it('a re-scan measures pose and shot thumbnails of faces cached before them, without re-embedding', async () => {
    expect([...fresh.values()].every((f) => f.pose?.length === 3 && f.shot !== null)).toBe(true);
    const { rows } = await env.db.query('SELECT DISTINCT pose_version FROM sources');
    expect(rows.map((r) => r.pose_version)).toEqual([POSE_VERSION]);
    // What a cache written before issue 15 looks like.
    await env.db.query('UPDATE sources SET pose_version = 0');
    await env.db.query('UPDATE faces SET pose = NULL, shot = NULL');
    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');
    expect(job.counters).toMatchObject({ embedded: 0, faces: fresh.size });
    const after = await storedFaces();
    for (const [key, face] of fresh) {
      const now = after.get(key)!;
      expect(now.embedding, `embedding of ${key}`).toBe(face.embedding);
      // The re-measure reads the pixels of the known boxes only (a large JPEG decodes another region than the full
      // pass did), so a thumbnail may differ by a level here and there, and the pose by a hair.
      const [a, b] = [Buffer.from(now.shot!, 'hex'), Buffer.from(face.shot!, 'hex')];
      expect(a.length, `shot of ${key}`).toBe(1024);
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!))), `shot of ${key}`).toBeLessThanOrEqual(2);
      now.pose!.forEach((v, k) => expect(Math.abs(v - face.pose![k]!), `pose ${k} of ${key}`).toBeLessThan(0.05));
    }
    const versions = await env.db.query(`SELECT DISTINCT pose_version FROM sources WHERE status = 'ok'`);
    expect(versions.rows.map((r) => r.pose_version)).toEqual([POSE_VERSION]);
  });

  it('keeps the faces of a source whose re-measure failed out of that job, and reports it as an error', async () => {
    const faces = new FacesRepository(env.db);
    const { rows: src } = await env.db.query(
      `SELECT encode(sha256, 'hex') AS sha, model_pack FROM sources WHERE status = 'ok' ORDER BY sha256 LIMIT 1`,
    );
    const { sha, model_pack: pack } = src[0];
    await env.db.query(`UPDATE sources SET blur_version = 1 WHERE sha256 = decode($1, 'hex')`, [sha]);
    const { rows: jobRows } = await env.db.query(
      `INSERT INTO jobs (mode, bucket, params, model_pack) VALUES ('scan', $1, '{}', $2) RETURNING id`,
      [bucket, pack],
    );
    const jobId = jobRows[0].id as string;
    await env.db.query(
      `INSERT INTO job_sources (job_id, sha256, path, cached, reblur) VALUES ($1, decode($2, 'hex'), '/gone.jpg', true, true)`,
      [jobId, sha],
    );
    expect((await faces.facesOfJob(jobId, pack)).length).toBe(0);
    const outcome = await faces.recordRemeasure(jobId, pack, sha, { ok: false, path: '/gone.jpg', error: 'read: ENOENT' });
    expect(outcome).toEqual({ status: 'error', faces: 0, counted: true });
    expect((await faces.facesOfJob(jobId, pack)).length).toBe(0);
    const facts = await new ReportsRepository(env.db).scanFacts(jobId, pack);
    expect(facts.errorFiles).toEqual([{ path: '/gone.jpg', reason: 'read: ENOENT' }]);
    // A retry converges: the verdict is not recorded twice.
    expect((await faces.recordRemeasure(jobId, pack, sha, { ok: false, path: '/gone.jpg', error: 'read: ENOENT' })).counted).toBe(false);
  });
});
