// Benchmark of the scan stage on a big bucket: walk, hash, record paths and sources, chunked embed fan-out; then a
// re-scan of the same unchanged bucket (no hashing: path, size and mtime match the last scan).
//
//   npm run bench:scan -- [--files 500000] [--dir /tmp/facesets-bench-scan] [--keep]
//
// Files are tiny (a unique line each, .jpg), 1,000 per folder; the bucket is made once and reused (--keep keeps it).
// Runs against its own database (dropped at the end) and its own Redis key prefix (deleted at the end); no worker
// consumes the queued batches. Prints one JSON line {"files":N,"scanSeconds":S,"rescanSeconds":R,"peakRssMb":M}.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_PARAMS, createDb, createFlowProducer, deleteQueueKeys, loadConfig, maintenanceUrl, migrate, workerConnection } from '@facesets/shared';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import { SourcesRepository } from '@facesets/shared/db/sources.repository';
import { createLogger } from '@facesets/shared/logger';
import { processScan } from '../services/embed-worker/src/scan.processor';

const args = process.argv.slice(2);
const get = (flag: string, def: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const files = Number(get('--files', '500000'));
const dir = get('--dir', `/tmp/facesets-bench-scan-${files}`);
const PER_DIR = 1000;

async function makeBucket(): Promise<void> {
  const marker = join(dir, '.complete');
  if ((await readdir(dir).catch((): string[] => [])).includes('.complete')) return;
  await rm(dir, { recursive: true, force: true });
  for (let d = 0; d * PER_DIR < files; d++) {
    const sub = join(dir, `d${String(d).padStart(4, '0')}`);
    await mkdir(sub, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let i = d * PER_DIR; i < Math.min(files, (d + 1) * PER_DIR); i++) writes.push(writeFile(join(sub, `img_${i}.jpg`), `bench file ${i}\n`));
    await Promise.all(writes);
  }
  await writeFile(marker, '');
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const t0 = performance.now();
  await makeBucket();
  process.stdout.write(`bucket ${dir}: ${files} files ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  const id = randomBytes(4).toString('hex');
  const dbName = `facesets_bench_scan_${id}`;
  // The server's maintenance database: the service's own may not exist yet on a fresh machine.
  const admin = new pg.Client({ connectionString: maintenanceUrl(config.databaseUrl) });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(config.databaseUrl);
  url.pathname = `/${dbName}`;
  await migrate(url.toString());
  const db = createDb(url.toString(), { max: 4 });
  const redis = workerConnection(config.redisUrl);
  const prefix = `bench-scan-${id}`;
  const flow = createFlowProducer(redis, prefix);
  const jobs = new JobsRepository(db);
  const deps = {
    jobs,
    sources: new SourcesRepository(db),
    flow,
    modelPack: 'bench-pack',
    batchSize: config.embedBatchSize,
    fanOutChunk: config.scanFanOutChunk,
    log: createLogger('bench-scan', 'warn'),
  };
  const scanOnce = async (): Promise<number> => {
    const { job } = await jobs.create({
      mode: 'scan', bucket: dir, outputRoot: null, params: DEFAULT_PARAMS, force: false, callbackUrl: null, idempotencyKey: null, requestHash: null,
    });
    const t = performance.now();
    const out = await processScan({ jobId: job.id }, deps);
    const s = (performance.now() - t) / 1000;
    process.stdout.write(`  ${JSON.stringify(out)} in ${s.toFixed(1)} s\n`);
    return s;
  };
  try {
    const scanSeconds = await scanOnce();
    // As if the embed stage had run: every source cached (noface), so the re-scan has nothing left to embed.
    await db.query(
      `INSERT INTO sources (sha256, model_pack, status) SELECT DISTINCT sha256, 'bench-pack', 'noface' FROM job_sources ON CONFLICT DO NOTHING`,
    );
    const rescanSeconds = await scanOnce();
    const peakRssMb = Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20);
    process.stdout.write(JSON.stringify({ files, scanSeconds: Math.round(scanSeconds * 10) / 10, rescanSeconds: Math.round(rescanSeconds * 10) / 10, peakRssMb }) + '\n');
  } finally {
    await flow.close();
    await deleteQueueKeys(redis, prefix);
    redis.disconnect();
    await db.end();
    await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
    await admin.end();
    if (!args.includes('--keep')) await rm(dir, { recursive: true, force: true });
  }
}

await main();
