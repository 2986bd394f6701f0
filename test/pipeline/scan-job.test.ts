// A scan job end to end: counters, byte-duplicates, broken files, cache on re-run, and only new photos embedded.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, addAwkwardFiles, createTestEnv, type TestEnv } from '../support/test-env';
import { closeSharedEngine, getJob, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
let bucket: string;

/** 52 people + 8 groups + 5 misc photos, plus broken.jpg and truncated.PNG. */
const IMAGES = 65 + 2;
/** Byte-duplicate pairs in the fixtures: obama/obama3, biden/biden3, groups/bbt4 and misc/faces. */
const DUPLICATES = 3;
const SOURCES = IMAGES - DUPLICATES;

beforeAll(async () => {
  // Batches of 8 added one per round trip: the fan-out goes through many chunks behind its barrier.
  env = await createTestEnv({ EMBED_BATCH_SIZE: '8', SCAN_FANOUT_CHUNK: '1' });
  bucket = await env.fixtureBucket('mixed');
  await addAwkwardFiles(bucket, join(env.root, 'elsewhere'));
  app = await startApi(env);
  workers = await startWorkers(env);
});

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

async function sourceStatus(path: string): Promise<string | undefined> {
  const { rows } = await env.db.query(
    `SELECT s.status FROM aliases a JOIN sources s ON s.sha256 = a.sha256 WHERE a.path = $1`,
    [path],
  );
  return rows[0]?.status;
}

describe('scan job', () => {
  let firstId: string;

  it('records every file once, with the right counters', async () => {
    firstId = await submit(app, { bucket, mode: 'scan' });
    const seen = new Set<string>();
    const job = await waitForJob(app, firstId, {
      until: (j) => {
        seen.add(j.state);
        return ['completed', 'failed', 'cancelled'].includes(j.state);
      },
    });
    expect(job.error).toBeNull();
    expect(job.state).toBe('completed');
    expect(seen.has('embedding')).toBe(true);
    const c = job.counters;
    expect(c.found).toBe(IMAGES);
    // README.md, labels.csv, notes.txt and the symlink leading out of the bucket.
    expect(c.skipped).toBe(4);
    expect(c.aliases).toBe(DUPLICATES);
    expect(c.cached).toBe(0);
    expect(c.embedded).toBe(SOURCES);
    expect(c.errors).toBe(2);
    expect(c.noface).toBe(1);
    expect(job.progress.percent).toBe(100);

    const { rows } = await env.db.query(
      `SELECT count(*) FILTER (WHERE status = 'ok') AS ok, count(*) FILTER (WHERE status = 'noface') AS noface,
              count(*) FILTER (WHERE status = 'error') AS errors, sum(face_count) AS faces FROM sources`,
    );
    expect(rows[0].ok + rows[0].noface + rows[0].errors).toBe(SOURCES);
    expect(rows[0].noface).toBe(c.noface);
    expect(rows[0].errors).toBe(c.errors);
    const faces = await env.db.query('SELECT count(*) AS n FROM faces');
    expect(faces.rows[0].n).toBe(c.faces);
    expect(rows[0].faces).toBe(c.faces);
    expect(c.faces).toBeGreaterThan(50);

    // The byte-duplicate is one source with two paths.
    const dup = await env.db.query(
      `SELECT array_agg(path ORDER BY path) AS paths FROM aliases GROUP BY sha256 HAVING count(*) > 1`,
    );
    expect(dup.rows).toHaveLength(DUPLICATES);
    expect(dup.rows.map((r) => r.paths)).toContainEqual([
      join(bucket, 'people/obama/obama.jpg'),
      join(bucket, 'people/obama/obama3.jpg'),
    ]);

    expect(await sourceStatus(join(bucket, 'misc/white.png'))).toBe('noface');
    expect(await sourceStatus(join(bucket, 'misc/broken.jpg'))).toBe('error');
    expect(await sourceStatus(join(bucket, 'misc/truncated.PNG'))).toBe('error');
    expect(await sourceStatus(join(bucket, 'people/obama/obama3.jpg'))).toBe('ok');
  });

  it('keeps face records complete: box, keypoints, scores and a normalised 512-d embedding', async () => {
    const { rows } = await env.db.query(
      `SELECT box, kps, det_score, face_short, blur, embedding FROM faces ORDER BY sha256, face_index LIMIT 5`,
    );
    for (const r of rows) {
      expect(r.box).toHaveLength(4);
      expect(r.kps).toHaveLength(10);
      expect(r.det_score).toBeGreaterThanOrEqual(0.5);
      expect(r.face_short).toBeGreaterThan(0);
      const v = new Float32Array(new Uint8Array(r.embedding).buffer);
      expect(v).toHaveLength(512);
      expect(Math.hypot(...v)).toBeCloseTo(1, 3);
    }
  });

  it('has a report with the scan part and a summary', async () => {
    const res = await app.inject({ method: 'GET', url: `/jobs/${firstId}/report` });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.mode).toBe('scan');
    expect(report.scan.files.byExtension['.jpg']).toBeGreaterThan(10);
    expect(report.scan.files.byExtension['.png']).toBeGreaterThan(10);
    expect(report.scan.files.skippedByExtension).toMatchObject({ '.md': 1, '.csv': 1, '.txt': 1 });
    expect(report.scan.errorFiles.map((e: { path: string }) => e.path)).toEqual([
      join(bucket, 'misc/broken.jpg'),
      join(bucket, 'misc/truncated.PNG'),
    ]);
    expect(report.scan.errorFilesTotal).toBe(2);
    const all = await app.inject({ method: 'GET', url: `/jobs/${firstId}/error-files` });
    expect(all.statusCode).toBe(200);
    expect(all.json().total).toBe(2);
    expect(all.json().files.map((e: { path: string }) => e.path)).toEqual([join(bucket, 'misc/broken.jpg'), join(bucket, 'misc/truncated.PNG')]);
    const missing = await app.inject({ method: 'GET', url: '/jobs/00000000-0000-4000-8000-000000000000/error-files' });
    expect(missing.statusCode).toBe(404);
    const hist = report.scan.faces.perImageHistogram as Record<string, number>;
    expect(Object.values(hist).reduce((a, b) => a + b, 0)).toBe(SOURCES - 2);
    expect(report.scan.faces.faceShort.median).toBeGreaterThan(0);
    const job = await getJob(app, firstId);
    expect(job.summary).toMatchObject({ sources: SOURCES, embedded: SOURCES, errors: 2, noface: 1 });
  });

  it('embeds nothing when the same bucket is scanned again', async () => {
    const before = await env.db.query('SELECT count(*) AS n FROM faces');
    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');
    const first = await getJob(app, firstId);
    expect(job.counters).toEqual({ ...first.counters, cached: SOURCES, embedded: 0 });
    const after = await env.db.query('SELECT count(*) AS n FROM faces');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('embeds only the photo added later', async () => {
    await copyFile(join(FIXTURES_DIR, 'people/biden/biden2.jpg'), join(bucket, 'new-biden-copy.jpg'));
    await copyFile(join(FIXTURES_DIR, 'misc/faces.jpg'), join(bucket, 'people', 'faces-again.jpg'));
    // A genuinely new photo: a byte-changed copy of an existing one.
    const { readFile, writeFile } = await import('node:fs/promises');
    const jpg = await readFile(join(FIXTURES_DIR, 'people/rose_leslie/img2.jpg'));
    await writeFile(join(bucket, 'rose-new.jpg'), Buffer.concat([jpg, Buffer.from([0])]));
    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');
    expect(job.counters.found).toBe(IMAGES + 3);
    // Two of the three are byte-duplicates of photos already there.
    expect(job.counters.aliases).toBe(DUPLICATES + 2);
    expect(job.counters.embedded).toBe(1);
    expect(job.counters.cached).toBe(SOURCES);
    const { rows } = await env.db.query(
      `SELECT count(*) AS n FROM job_sources WHERE job_id = $1 AND NOT cached`,
      [id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('trusts unchanged (path, size, mtime) on a re-scan without hashing, and re-hashes with force', async () => {
    const { readFile, writeFile, stat, utimes } = await import('node:fs/promises');
    // Same size, same mtime, different bytes: only a re-hash can tell.
    const file = join(bucket, 'people', 'obama', 'obama2.jpg');
    const info = await stat(file);
    const bytes = await readFile(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    await writeFile(file, bytes);
    await utimes(file, info.atime, info.mtime);
    const shaOf = async (): Promise<string> =>
      (await env.db.query(`SELECT encode(sha256, 'hex') AS sha FROM aliases WHERE path = $1`, [file])).rows[0].sha;
    // Which job last changed each alias row of the folder: an unchanged re-scan rewrites none of them.
    const changedBy = async (): Promise<Map<string, string>> =>
      new Map((await env.db.query(`SELECT path, changed_by_job FROM aliases WHERE path LIKE $1`, [`${join(bucket, 'people', 'obama')}/%`])).rows.map((r) => [r.path, r.changed_by_job]));
    const before = await shaOf();
    const plain = await waitForJob(app, await submit(app, { bucket: join(bucket, 'people', 'obama'), mode: 'scan' }));
    expect(plain.state).toBe('completed');
    expect(plain.counters).toMatchObject({ found: 4, cached: 3, embedded: 0 });
    expect(await shaOf()).toBe(before);
    // (That scan changed every row's bucket to the folder; the next one of the same folder changes nothing.)
    const rowsBefore = await changedBy();
    expect(new Set(rowsBefore.values())).toEqual(new Set([plain.id]));
    const again = await waitForJob(app, await submit(app, { bucket: join(bucket, 'people', 'obama'), mode: 'scan' }));
    expect(again.state).toBe('completed');
    expect(await changedBy()).toEqual(rowsBefore);
    const forced = await waitForJob(app, await submit(app, { bucket: join(bucket, 'people', 'obama'), mode: 'scan', force: true }));
    expect(forced.state).toBe('completed');
    expect(await shaOf()).not.toBe(before);
    // Only the file whose bytes changed has a new alias row, written by the forced scan.
    const rowsAfter = await changedBy();
    expect([...rowsAfter].filter(([path, by]) => by !== rowsBefore.get(path))).toEqual([[file, forced.id]]);
  });

  it('re-embeds everything with force', async () => {
    const id = await submit(app, { bucket: join(bucket, 'people', 'obama'), mode: 'scan', force: true });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');
    expect(job.counters).toMatchObject({ found: 4, aliases: 1, cached: 0, embedded: 3 });
    const dupFaces = await env.db.query(
      'SELECT sha256, face_index, count(*) FROM faces GROUP BY 1, 2 HAVING count(*) > 1',
    );
    expect(dupFaces.rows).toHaveLength(0);
  });
});
