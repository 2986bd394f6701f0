// Migrations: idempotent, safe from two processes at once, and an edited applied file is refused.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATIONS_DIR, ensureDatabase, migrate } from '@facesets/shared/db/migrate';
import { testServices } from '../support/services';

let url: string;
let admin: string;
const name = `facesets_migrate_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  admin = (await testServices()).adminDatabaseUrl;
  const u = new URL(admin);
  u.pathname = `/${name}`;
  url = u.toString();
});

afterAll(async () => {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
});

it('creates the database and applies every migration once, even from two runners at once', async () => {
  const created = await Promise.all([ensureDatabase(url), ensureDatabase(url)]);
  expect(created.filter(Boolean)).toHaveLength(1);
  const [a, b] = await Promise.all([migrate(url), migrate(url)]);
  // Every file in migrations/, once between the two runners (branches add their own files).
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  expect(files[0]).toBe('0001_pipeline.sql');
  expect([...a.applied, ...b.applied].sort()).toEqual(files);
  const again = await migrate(url);
  expect(again.applied).toEqual([]);
  expect(again.skipped).toContain('0001_pipeline.sql');
});

it('refuses a migration edited after it was applied', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  try {
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await appendFile(join(dir, '0001_pipeline.sql'), '\n-- edited\n');
    await expect(migrate(url, dir)).rejects.toThrow(/0001_pipeline\.sql was edited after it was applied/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
