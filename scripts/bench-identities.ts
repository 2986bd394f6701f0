// Benchmark of the identities API on a big output root: time of each call, through the real app, Postgres and disk.
//
//   npm run bench:identities -- [--identities 200] [--faces 100] [--seed 1]
//
// Builds, in a database and a temp folder of its own, an output root of `identities` face set folders with `faces`
// members each (200 × 100 = 20,000 by default): face records with synthetic 512-d embeddings (a face is
// normalize(centre + N(0, σ²)), two faces of one identity ~0.3 apart), a real 96 px PNG file per member, faceset.json
// and manifest.json as a job writes them. Then every identities call is timed once through app.inject() (the first
// list adopts the whole root). Needs DATABASE_URL (a server where it may CREATE DATABASE) and REDIS_URL.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { Redis } from 'ioredis';
import { buildApp } from '../services/api/src/app';
import { gaussian, mulberry32 } from '@facesets/shared/clustering/prng';
import { normalize } from '@facesets/shared/clustering/vectors';
import { loadConfig } from '@facesets/shared/config';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { migrate } from '@facesets/shared/db/migrate';
import { createDb } from '@facesets/shared/db/pool';
import type { Face, FileOk } from '@facesets/shared/engine/types';
import { facesetMember, serializeFaceset } from '@facesets/shared/export/faceset-file';
import { facesetName } from '@facesets/shared/export/numbering';
import { deleteQueueKeys } from '@facesets/shared/queues';
import { modelPackId } from '@facesets/shared/models/model-pack';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const IDENTITIES = arg('identities', 200);
const FACES = arg('faces', 100);
const SEED = arg('seed', 1);
const FACES_PER_SOURCE = 10;
const DIM = 512;
const SIGMA = Math.sqrt((1 / 0.7 - 1) / DIM);

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const id = randomBytes(4).toString('hex');
const dbName = `facesets_bench_${id}`;

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const databaseUrl = withDatabase(adminUrl, dbName);
  await migrate(databaseUrl);
  const work = await mkdtemp(join(tmpdir(), 'facesets-bench-identities-'));
  const out = join(work, 'output', 'root');
  await mkdir(out, { recursive: true });
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `bench-${id}`,
    OUTPUT_ROOTS: join(work, 'output'),
    BUCKET_ROOTS: join(work, 'buckets'),
    LOG_LEVEL: 'warn',
  });
  const db = createDb(databaseUrl, { max: 4 });
  const pack = modelPackId();
  try {
    const t0 = performance.now();
    await build(db, out, pack);
    console.log(`built ${IDENTITIES} identities × ${FACES} faces (${IDENTITIES * FACES} PNGs) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const app = await buildApp({ config });
    try {
      await measure(app, out);
    } finally {
      await app.close();
    }
  } finally {
    await db.end();
    const redis = new Redis(redisUrl);
    await deleteQueueKeys(redis, config.queuePrefix);
    await redis.quit();
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await cleanup.end();
    await rm(work, { recursive: true, force: true });
  }
}

/** Face records in Postgres, and the output root on disk as a job would have written it. */
async function build(db: pg.Pool, out: string, pack: string): Promise<void> {
  const r = mulberry32(SEED);
  const faces = new FacesRepository(db);
  const jobId = randomUUID();
  const manifest = { facesets: [] as unknown[], thin_eras: [] as unknown[] };
  for (let i = 0; i < IDENTITIES; i++) {
    const centre = normalize(Float32Array.from({ length: DIM }, () => gaussian(r)));
    const name = facesetName(i + 1);
    const dir = join(out, name);
    await mkdir(dir);
    const png = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: 128 } } }).png().toBuffer();
    const members: unknown[] = [];
    for (let s = 0; s < FACES / FACES_PER_SOURCE; s++) {
      const sha256 = randomBytes(32).toString('hex');
      const list: Face[] = [];
      for (let k = 0; k < FACES_PER_SOURCE; k++) {
        const x = 10 + k * 200;
        const v = Float32Array.from(centre, (c) => c + SIGMA * gaussian(r));
        list.push({
          box: [x, 10, x + 150, 170], kps: [[x + 45, 60], [x + 105, 60], [x + 75, 95], [x + 50, 130], [x + 100, 130]],
          detScore: 0.99, faceShort: 150, blur: 200, embedding: normalize(v),
        });
      }
      const path = `/bench/${name}/src_${s}.jpg`;
      const file: FileOk = { ok: true, path, sha256, size: 1, format: 'jpeg', width: 2100, height: 200, faces: list, timings: { decode: 0, detect: 0, landmark: 0, embed: 0 } };
      await faces.recordFile(jobId, pack, sha256, file);
      for (const [k, f] of list.entries()) {
        const pngName = `src_${s}_${sha256.slice(0, 8)}_${k}.png`;
        await writeFile(join(dir, pngName), png);
        members.push(facesetMember({ ...f, png: pngName, paths: [path], sha256, distance: 0.3 }));
      }
    }
    const header = { name, source: '/bench', jobId, createdAt: new Date().toISOString(), params: { exportSize: 96 } };
    await writeFile(join(dir, 'faceset.json'), serializeFaceset({ ...header, members }));
    manifest.facesets.push({ name, path: name, count: members.length, source: '/bench', jobId, createdAt: header.createdAt });
  }
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

async function measure(app: Awaited<ReturnType<typeof buildApp>>, out: string): Promise<void> {
  const rows: [string, number, number][] = [];
  const time = async (label: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const t = performance.now();
    const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
    const ms = performance.now() - t;
    if (res.statusCode >= 300) throw new Error(`${label}: ${method} ${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    rows.push([label, ms, res.rawPayload.length]);
    return res;
  };
  const q = `outputRoot=${encodeURIComponent(out)}`;
  const first = (await time(`GET /identities (first: adopts ${IDENTITIES} folders)`, 'GET', `/identities?${q}&limit=500`)).json<{ items: { id: string }[] }>();
  await time('GET /identities (adopted)', 'GET', `/identities?${q}&limit=500`);
  await time('GET /identities (page of 100)', 'GET', `/identities?${q}&limit=100`);
  const [a, b, c] = first.items;
  const detail = (await time('GET /identities/:id (100 faces)', 'GET', `/identities/${a!.id}`)).json<{ faces: { id: string; thumb: string }[] }>();
  const other = (await app.inject({ method: 'GET', url: `/identities/${b!.id}` })).json<{ faces: { id: string }[] }>();
  await time('GET /identities/:id/suggestions', 'GET', `/identities/${a!.id}/suggestions`);
  await time('GET /faces/:faceId/thumb (cold)', 'GET', `${detail.faces[0]!.thumb}?size=128`);
  await time('GET /faces/:faceId/thumb (cached)', 'GET', `${detail.faces[0]!.thumb}?size=128`);
  await time('PATCH /identities/:id (label)', 'PATCH', `/identities/${a!.id}`, { label: 'Someone' });
  await time('POST /identities/:id/reject (5 faces)', 'POST', `/identities/${a!.id}/reject`, { faceIds: detail.faces.slice(0, 5).map((f) => f.id) });
  await time('POST /identities/:id/assign (5 faces from another)', 'POST', `/identities/${a!.id}/assign`, { faceIds: other.faces.slice(0, 5).map((f) => f.id) });
  const split = (await time('POST /identities/:id/split (20 faces)', 'POST', `/identities/${a!.id}/split`, { faceIds: detail.faces.slice(10, 30).map((f) => f.id) })).json<{ id: string }>();
  await time('POST /identities/:id/merge (1 identity)', 'POST', `/identities/${a!.id}/merge`, { from: [split.id] });
  await time('POST /identities/:id/undo (the merge)', 'POST', `/identities/${a!.id}/undo`);
  await time('POST /identities/:id/merge (100 faces)', 'POST', `/identities/${c!.id}/merge`, { from: [b!.id] });
  await time('DELETE /identities/:id', 'DELETE', `/identities/${split.id}`);
  await time('GET /identities/:id/history', 'GET', `/identities/${a!.id}/history`);
  const d2 = (await app.inject({ method: 'GET', url: `/identities/${first.items[5]!.id}` })).json<{ path: string; faces: { png: string }[] }>();
  for (const f of d2.faces.slice(0, 3)) await rm(join(out, d2.path, f.png));
  await time('POST /output-roots/sync (3 PNGs deleted by hand)', 'POST', '/output-roots/sync', { outputRoot: out });
  await time('POST /output-roots/sync (nothing changed)', 'POST', '/output-roots/sync', { outputRoot: out });

  console.log(`\n${IDENTITIES} identities, ${IDENTITIES * FACES} faces; one call each through app.inject()`);
  console.log('call'.padEnd(54), 'ms'.padStart(9), 'bytes'.padStart(10));
  for (const [label, ms, bytes] of rows) console.log(label.padEnd(54), ms.toFixed(1).padStart(9), String(bytes).padStart(10));
}

await main();
