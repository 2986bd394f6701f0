// The review page on one identity of 500 faces in chromium: render time, thumbnails fetched before and after scrolling
// (lazy loading), a 500-face shift-click selection and a 100-face reject, through the real API, Postgres and disk.
//
//   npm run bench:review-page -- [--faces 500]
//
// Seeds, in a database and temp folder of its own, an output root with one identity of `faces` members (face records
// with synthetic embeddings around one centre, a real 96 px PNG per member, faceset.json and manifest.json as a job
// writes them), opens /ui?identity=… and prints the figures. Needs Postgres, Redis (as the tests) and chromium.
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { gaussian, mulberry32 } from '@facesets/shared/clustering/prng';
import { normalize } from '@facesets/shared/clustering/vectors';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import type { Face, FileOk } from '@facesets/shared/engine/types';
import { facesetMember, serializeFaceset } from '@facesets/shared/export/faceset-file';
import { modelPackId } from '@facesets/shared/models/model-pack';
import { launchChromium } from '../test/support/browser';
import { startApi } from '../test/support/pipeline';
import { createTestEnv, type TestEnv } from '../test/support/test-env';

const { values } = parseArgs({ options: { faces: { type: 'string', default: '500' } } });
const FACES = Number(values.faces);
const PER_SOURCE = 10;
const DIM = 512;

/** One identity folder of `count` members, recorded as face records of `count / 10` synthetic sources. */
async function seed(env: TestEnv, out: string, count: number): Promise<void> {
  const r = mulberry32(7);
  const faces = new FacesRepository(env.db);
  const jobId = randomUUID();
  const centre = normalize(Float32Array.from({ length: DIM }, () => gaussian(r)));
  const sigma = Math.sqrt((1 / 0.7 - 1) / DIM);
  const dir = join(out, 'faceset_001');
  await mkdir(dir, { recursive: true });
  const members: unknown[] = [];
  for (let s = 0; s < Math.ceil(count / PER_SOURCE); s++) {
    const sha256 = randomBytes(32).toString('hex');
    const list: Face[] = [];
    for (let k = 0; k < PER_SOURCE && s * PER_SOURCE + k < count; k++) {
      const x = 10 + k * 200;
      list.push({
        box: [x, 10, x + 150, 170],
        kps: [[x + 45, 60], [x + 105, 60], [x + 75, 95], [x + 50, 130], [x + 100, 130]],
        detScore: 0.99,
        faceShort: 150,
        blur: 200,
        embedding: normalize(Float32Array.from(centre, (c) => c + sigma * gaussian(r))),
      });
    }
    const path = `/bench/src_${s}.jpg`;
    const file: FileOk = { ok: true, path, sha256, size: 1, format: 'jpeg', width: 2100, height: 200, faces: list, timings: { decode: 0, detect: 0, landmark: 0, embed: 0 } };
    await faces.recordFile(jobId, modelPackId(), sha256, file);
    for (const [k, f] of list.entries()) {
      const png = `src_${s}_${sha256.slice(0, 8)}_${k}.png`;
      const shade = (s * PER_SOURCE + k) % 200;
      await writeFile(join(dir, png), await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 40 + shade, g: 90, b: 160 } } }).png().toBuffer());
      members.push(facesetMember({ ...f, png, paths: [path], sha256, distance: 0.3 }));
    }
  }
  const header = { name: 'faceset_001', source: '/bench', jobId, createdAt: new Date().toISOString(), params: { exportSize: 96 } };
  await writeFile(join(dir, 'faceset.json'), serializeFaceset({ ...header, members }));
  const entry = { name: 'faceset_001', path: 'faceset_001', count: members.length, source: '/bench', jobId, createdAt: header.createdAt };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify({ facesets: [entry], thin_eras: [] }, null, 2)}\n`);
}

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const env = await createTestEnv();
const app = await startApi(env);
const browser = await launchChromium({ width: 1400, height: 900 });
try {
  const out = join(env.outputDir, 'big');
  await seed(env, out, FACES);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const list = (await (await fetch(`${base}/identities?outputRoot=${encodeURIComponent(out)}`)).json()) as { items: { id: string }[] };
  const id = list.items[0]!.id;

  const page = await browser.context.newPage();
  let thumbs = 0;
  page.on('request', (req) => {
    if (req.url().includes('/thumb?')) thumbs++;
  });
  const t0 = performance.now();
  await page.goto(`${base}/ui?identity=${id}`);
  await page.getByTestId('face').nth(FACES - 1).waitFor({ state: 'attached' });
  const rendered = performance.now() - t0;
  await page.waitForLoadState('networkidle');
  const atLoad = thumbs;

  const faces = page.getByTestId('face');
  const t1 = performance.now();
  await faces.first().click();
  await faces.nth(FACES - 1).click({ modifiers: ['Shift'] });
  await page.getByTestId('actionbar').filter({ hasText: `${FACES} faces selected` }).waitFor();
  const selectAll = performance.now() - t1;
  await page.getByRole('button', { name: 'Clear' }).click();

  await faces.nth(FACES - 1).scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  await page.waitForLoadState('networkidle');
  const afterScroll = thumbs;

  await faces.first().click();
  await faces.nth(99).click({ modifiers: ['Shift'] });
  const t2 = performance.now();
  await page.getByRole('button', { name: 'Reject (not this person)' }).click();
  await page.getByTestId('notice').filter({ hasText: 'Rejected 100 faces' }).waitFor({ timeout: 120_000 });
  await page.getByTestId('face').nth(FACES - 101).waitFor({ state: 'attached' });
  const reject = performance.now() - t2;
  const left = await page.getByTestId('face').count();

  console.log(`review page, one identity of ${FACES} faces (chromium ${browser.context.browser()?.version() ?? ''})`);
  console.log(`  page load to ${FACES} tiles rendered        ${rendered.toFixed(0)} ms`);
  console.log(`  thumbnails fetched at load (lazy)         ${atLoad} of ${FACES}`);
  console.log(`  thumbnails fetched after scrolling down   ${afterScroll} of ${FACES}`);
  console.log(`  click + shift-click selecting ${FACES}        ${selectAll.toFixed(0)} ms`);
  console.log(`  reject 100 faces, click to grid reloaded  ${reject.toFixed(0)} ms (${left} faces left)`);
} finally {
  await browser.close();
  await app.close();
  await env.close();
}
