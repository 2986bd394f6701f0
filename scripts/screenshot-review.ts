// Takes docs/review.png: the review page on an identity after a real discover job over the fixtures (chromium).
// Usage: tsx scripts/screenshot-review.ts [--out docs/review.png]. Needs Postgres and Redis like the tests,
// and Debian's chromium. Two jobs leave one person in two face sets, so the page shows a merge suggestion.
import type { AddressInfo } from 'node:net';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../packages/shared/src/config';
import { launchChromium } from '../test/support/browser';
import { closeSharedEngine, startApi, startWorkers } from '../test/support/pipeline';
import { FIXTURES_DIR, copyFixtures } from '../test/support/fixtures';
import { createTestEnv } from '../test/support/test-env';

const { values } = parseArgs({ options: { out: { type: 'string', default: join(REPO_ROOT, 'docs', 'review.png') } } });
const outFile = resolve(String(values.out));
const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 128 };

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const env = await createTestEnv();
const app = await startApi(env);
const workers = await startWorkers(env);
const browser = await launchChromium({ width: 1280, height: 860 });
try {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const out = join(env.outputDir, 'sets');
  await mkdir(out);
  const bucket = (name: string, files: string[]) => copyFixtures(join(env.bucketsDir, name), files);
  const photos = async (who: string) => (await readdir(join(FIXTURES_DIR, 'people', who))).sort().map((f) => `people/${who}/${f}`);
  const run = async (body: Record<string, unknown>) => {
    const res = await fetch(`${base}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const job = (await (await fetch(`${base}/jobs/${id}`)).json()) as { state: string; error: string | null };
      if (job.state === 'completed') return id;
      if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${id}: ${job.state} ${job.error}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const people = ['leonard', 'penny', 'sheldon', 'howard', 'raj'];
  const first = await Promise.all(people.map(async (p) => (await photos(p)).slice(0, 4)));
  await run({ bucket: await bucket('tv-cast', first.flat()), outputRoot: out, params: PARAMS });
  // Penny's last photo plus the group shots again, routed nowhere: a second, thin set of her to merge.
  await run({
    bucket: await bucket('more', [...(await photos('penny')).slice(4), 'groups/bbt1.jpg', 'groups/bbt2.jpg']),
    outputRoot: out,
    params: { ...PARAMS, minFaces: 2, routeThreshold: 0.01 },
  });

  // The identity with a merge suggestion makes the fullest picture, labelled with the person's name from labels.csv.
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T;
  const { items } = await get<{ items: { id: string; name: string; version: number }[] }>(
    `/identities?outputRoot=${encodeURIComponent(out)}&state=active`,
  );
  let chosen = items[0]!;
  for (const identity of items) {
    const s = await get<{ merge: unknown[] }>(`/identities/${identity.id}/suggestions`);
    if (s.merge.length) {
      chosen = identity;
      break;
    }
  }
  const detail = await get<{ faces: { sources: string[] }[] }>(`/identities/${chosen.id}`);
  const who = /people\/([^/]+)\//.exec(detail.faces[0]?.sources[0] ?? '')?.[1];
  if (who) {
    const label = who[0]!.toUpperCase() + who.slice(1);
    await fetch(`${base}/identities/${chosen.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': String(chosen.version) },
      body: JSON.stringify({ label }),
    });
  }
  const page = await browser.context.newPage();
  await page.goto(`${base}/ui?identity=${chosen.id}`);
  await page.getByTestId('identity-title').waitFor();
  const faces = page.getByTestId('face');
  await faces.nth(1).click();
  await faces.nth(2).click({ modifiers: ['Shift'] });
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300);
  await mkdir(join(outFile, '..'), { recursive: true });
  await page.screenshot({ path: outFile, fullPage: false });
  console.log(`screenshot: ${outFile}`);
} finally {
  await browser.close();
  await workers.close();
  await app.close();
  await closeSharedEngine();
  await env.close();
}
