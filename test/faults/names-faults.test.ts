// Awkward files through a real scan job: a non-UTF-8 name (kept byte for byte), skipped entries named by kind,
// damaged images with one clear line each (findings 7 and 8).
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;

beforeAll(async () => {
  env = await createTestEnv();
  app = await startApi(env);
  workers = await startWorkers(env);
}, 120_000);

afterAll(async () => {
  await workers?.close();
  await closeSharedEngine();
  await app?.close();
  await env?.close();
});

describe('awkward names and damaged files', () => {
  it('keeps a non-UTF-8 name lossless, names skipped entries by kind, gives one line per damaged file', { timeout: 180_000 }, async () => {
    const bucket = join(env.bucketsDir, 'awkward');
    await mkdir(bucket);
    const face = join(FIXTURES_DIR, 'people', 'amy', (await import('node:fs')).readdirSync(join(FIXTURES_DIR, 'people', 'amy')).sort()[0] as string);
    // bad\xffutf8.jpg: a valid photo whose name is not UTF-8 (Linux names are bytes).
    const badName = Buffer.concat([Buffer.from(`${bucket}/bad`), Buffer.from([0xff]), Buffer.from('utf8.jpg')]);
    await copyFile(face, badName);
    execFileSync('mkfifo', [join(bucket, 'x.jpg')]);
    await symlink(join(bucket, 'nowhere.jpg'), join(bucket, 'gone.jpg'));
    await symlink('/etc/hostname', join(bucket, 'escape.jpg'));
    await writeFile(join(bucket, 'notes.txt'), 'text');
    const png = Buffer.from(await readFile(join(FIXTURES_DIR, 'misc', 'white.png')));
    png[29] = (png[29] as number) ^ 0xff;
    await writeFile(join(bucket, 'badcrc.png'), png);
    await writeFile(join(bucket, 'header-only.jpg'), Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'));

    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id, { timeoutMs: 150_000 });
    expect(job.state).toBe('completed');
    expect(job.counters).toMatchObject({ found: 3, skipped: 4, errors: 2 });

    const { rows } = await env.db.query(`SELECT path, outcome, reason FROM job_sources WHERE job_id = $1 ORDER BY path`, [id]);
    const bad = rows.find((r) => r.path.includes('utf8'));
    expect(bad.path).toBe(`bytes:${bucket}/bad\\xffutf8.jpg`);
    expect(bad.outcome).toBe('ok');
    const reasons = Object.fromEntries(rows.filter((r) => r.outcome === 'error').map((r) => [r.path.split('/').pop(), r.reason]));
    expect(reasons['badcrc.png']).toMatch(/corrupt or unsupported png: its IHDR chunk has a bad CRC \(the file is damaged\)$/);
    expect(reasons['header-only.jpg']).not.toMatch(/\n/);
    const segments = (reasons['header-only.jpg'] as string).split('; ');
    expect(new Set(segments).size).toBe(segments.length);

    const report = (await app.inject({ method: 'GET', url: `/jobs/${id}/report` })).json();
    expect(report.scan.files.skippedByExtension).toEqual({ '(fifo, socket or device)': 1, '(dangling symlink)': 1, '(symlink outside bucket)': 1, '.txt': 1 });
    expect(report.scan.files.skippedExamples).toEqual({
      '(fifo, socket or device)': [join(bucket, 'x.jpg')],
      '(dangling symlink)': [join(bucket, 'gone.jpg')],
      '(symlink outside bucket)': [join(bucket, 'escape.jpg')],
      '.txt': [join(bucket, 'notes.txt')],
    });
    const md = (await app.inject({ method: 'GET', url: `/jobs/${id}/report?format=md` })).body;
    expect(md).toContain('`' + join(bucket, 'x.jpg') + '`');
    expect(md).toMatch(/\(dangling symlink\) \| `[^`]*gone\.jpg`/);
  });
});
