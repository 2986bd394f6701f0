// The review page in a real browser (Debian's chromium via playwright-core) against the real API, queues, workers and
// Postgres: two discover jobs leave one person in two face sets; merging them and rejecting a face by clicking change
// exactly the folders, faceset.json files and manifest.json on disk.
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@facesets/shared/config';
import { fixtureLabels } from '../discovery/fixture-faces';
import { launchChromium, type Browser } from '../support/browser';
import { closeSharedEngine, startApi, startWorkers, type InProcessWorkers } from '../support/pipeline';
import { copyFixtures } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/test-env';

/** As in discover-jobs.test.ts: the fixture people hold 5 photos each and faces of 80–160 px. */
const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 128 };
const TOKEN = 'review-e2e-token';
const PEOPLE = ['amy', 'howard', 'leonard'];

const labels = fixtureLabels();
let env: TestEnv;
let app: FastifyInstance;
let baseUrl: string;
let workers: InProcessWorkers;
let browser: Browser;
let page: Page;
let out: string;

const photosOf = (who: string): string[] => [...labels.keys()].filter((p) => p.startsWith(`people/${who}/`)).sort();
const readJson = async (p: string): Promise<any> => JSON.parse(await readFile(p, 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON

const bucketOf = (name: string, files: string[]) => copyFixtures(join(env.bucketsDir, name), files);

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function submitJob(body: Record<string, unknown>): Promise<string> {
  return (await api<{ id: string }>('POST', '/jobs', body)).id;
}

async function waitForJob(id: string): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const job = await api<{ state: string; error: string | null }>('GET', `/jobs/${id}`);
    if (job.state === 'completed') return id;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${id} ${job.state}: ${job.error}`);
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Who a face set holds, read from its faceset.json sources and labels.csv. */
async function setsOnDisk(): Promise<{ name: string; path: string; people: string[]; pngs: string[]; members: { png: string }[] }[]> {
  const sets = [];
  for (const dir of ['', '_thin']) {
    const names = (await readdir(join(out, dir)).catch(() => [] as string[])).filter((n) => /^faceset_\d{3}$/.test(n));
    for (const name of names) {
      const path = dir ? `${dir}/${name}` : name;
      const file = await readJson(join(out, path, 'faceset.json'));
      const people = new Set<string>(
        file.members.flatMap((m: { sources: string[] }) =>
          m.sources.map((s) => labels.get(relative(env.bucketsDir, s).split('/').slice(1).join('/')) ?? s),
        ),
      );
      const pngs = (await readdir(join(out, path))).filter((n) => n.endsWith('.png')).sort();
      sets.push({ name, path, people: [...people].sort(), pngs, members: file.members });
    }
  }
  return sets.sort((a, b) => a.name.localeCompare(b.name));
}

beforeAll(async () => {
  // The page under test is the one these sources make, not whatever the last npm install left in dist/.
  execFileSync(process.execPath, [join(REPO_ROOT, 'packages', 'ui', 'build.mjs')], { stdio: 'pipe' });
  env = await createTestEnv({ API_TOKEN: TOKEN });
  app = await startApi(env);
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  workers = await startWorkers(env);
  browser = await launchChromium();
  page = await browser.context.newPage();
  out = join(env.outputDir, 'sets');
  await mkdir(out);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('the review page', () => {
  let firstAmy: string;
  let secondAmy: string;

  it('asks for the token, lists the jobs with live progress, and shows a job’s new identities', async () => {
    // Three photos each of three people; amy's other two come in a second job that routes nothing, so she gets a
    // second (thin) face set: the "two sets of one person" the page is there to fix.
    const jobA = await waitForJob(
      await submitJob({ bucket: await bucketOf('a', PEOPLE.flatMap((p) => photosOf(p).slice(0, 3))), outputRoot: out, params: PARAMS }),
    );
    await page.goto(`${baseUrl}/ui`);
    await page.getByTestId('token-form').waitFor();
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator(`[data-testid=job-row][data-job-id="${jobA}"][data-state=completed]`).waitFor();

    // The second job is still queued when the page loads; its row follows the job's event stream to the end.
    const streams: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/events')) streams.push(new URL(req.url()).pathname);
    });
    const jobB = await submitJob({
      bucket: await bucketOf('b', photosOf('amy').slice(3)),
      outputRoot: out,
      params: { ...PARAMS, minFaces: 2, routeThreshold: 0.01 },
    });
    await page.reload();
    const rowB = page.locator(`[data-testid=job-row][data-job-id="${jobB}"]`);
    await rowB.waitFor();
    expect(['queued', 'scanning', 'embedding', 'clustering', 'exporting']).toContain(await rowB.getAttribute('data-state'));
    await page.locator(`[data-testid=job-row][data-job-id="${jobB}"][data-state=completed]`).waitFor({ timeout: 120_000 });
    expect(await rowB.getByTestId('job-percent').textContent()).toBe('100%');
    expect(streams).toContain(`/jobs/${jobB}/events`);

    const sets = await setsOnDisk();
    const amys = sets.filter((s) => s.people.includes('amy'));
    expect(sets.map((s) => s.people.join('+')).sort()).toEqual(['amy', 'amy', 'howard', 'leonard']);
    expect(amys).toHaveLength(2);
    [firstAmy, secondAmy] = amys.map((s) => s.name) as [string, string];

    await page.locator(`[data-testid=job-row][data-job-id="${jobB}"] a`).first().click();
    const card = page.locator(`[data-testid=new-identities] [data-testid=identity-card][data-name=${secondAmy}]`);
    await card.waitFor({ timeout: 15_000 });
    // Its contact sheet, fetched with the token: a decoded image.
    const sheet = card.locator('img');
    await sheet.waitFor({ timeout: 15_000 });
    await expect.poll(() => sheet.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
  });

  it('merges the two sets of one person from the suggestions and rejects a face, by clicking', async () => {
    await page.goto(`${baseUrl}/ui?outputRoot=${encodeURIComponent(out)}`);
    await page.locator(`[data-testid=identity-card][data-name=${firstAmy}] a`).click();
    await page.getByTestId('identity-title').waitFor();
    const merge = page.locator(`[data-testid=suggestion][data-name=${secondAmy}] button`);
    await merge.waitFor({ timeout: 15_000 });
    await merge.click();
    await page.getByTestId('notice').filter({ hasText: `Merged ${secondAmy}` }).waitFor();
    await expect.poll(() => page.getByTestId('face').count()).toBe(5);

    const face = page.getByTestId('face').nth(1);
    const faceId = await face.getAttribute('data-face-id');
    const identityId = new URL(page.url()).searchParams.get('identity')!;
    const detail = await api<{ faces: { id: string; png: string }[] }>('GET', `/identities/${encodeURIComponent(identityId)}`);
    const rejectedPng = detail.faces.find((f) => f.id === faceId)!.png.split('/').pop()!;
    await face.click();
    await page.getByRole('button', { name: 'Reject (not this person)' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Rejected 1 face' }).waitFor();
    await expect.poll(() => page.getByTestId('face').count()).toBe(4);

    const sets = await setsOnDisk();
    expect(sets.map((s) => s.name)).not.toContain(secondAmy);
    const amy = sets.find((s) => s.name === firstAmy)!;
    expect(amy.people).toEqual(['amy']);
    expect(amy.pngs).toHaveLength(4);
    expect(amy.pngs).not.toContain(rejectedPng);
    expect(amy.members.map((m) => m.png).sort()).toEqual(amy.pngs);
    const manifest = await readJson(join(out, 'manifest.json'));
    const named = (list: { name: string }[], name: string) => list.filter((e) => e.name === name);
    expect(named(manifest.facesets, firstAmy)).toEqual([expect.objectContaining({ path: amy.path, count: 4 })]);
    expect(named([...manifest.facesets, ...manifest.thin_eras], secondAmy)).toEqual([]);
    expect(manifest.merged).toEqual([expect.objectContaining({ name: secondAmy, into: firstAmy })]);
    expect(manifest.facesets.length + manifest.thin_eras.length).toBe(3);
  });

  it('labels by clicking, says so plainly on a 409, and undoes the last decision', async () => {
    const identityId = new URL(page.url()).searchParams.get('identity')!;
    const amyPath = () => setsOnDisk().then((sets) => sets.find((s) => s.name === firstAmy)!.path);
    const labelOnDisk = async () => (await readJson(join(out, await amyPath(), 'faceset.json'))).label;
    const labelInManifest = async () =>
      (await readJson(join(out, 'manifest.json'))).facesets.find((e: { name: string }) => e.name === firstAmy).label;

    await page.getByLabel('label').fill('Amy');
    await page.getByRole('button', { name: 'Save label' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Labelled' }).waitFor();
    expect(await labelOnDisk()).toBe('Amy');
    expect(await labelInManifest()).toBe('Amy');
    await page.getByTestId('identity-title').filter({ hasText: `Amy (${firstAmy})` }).waitFor();

    // Someone else labels it meanwhile: the page's version is stale, so its change is refused and it says why.
    const { version } = await api<{ version: number }>('GET', `/identities/${identityId}`);
    const res = await fetch(`${baseUrl}/identities/${identityId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'if-match': String(version) },
      body: JSON.stringify({ label: 'Amy F.' }),
    });
    expect(res.status).toBe(200);
    await page.getByLabel('label').fill('Amy Farrah Fowler');
    await page.getByRole('button', { name: 'Save label' }).click();
    const conflict = page.locator('[data-testid=notice].notice-conflict');
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain(`not ${version}`);
    expect(await page.getByLabel('label').inputValue()).toBe('Amy F.');
    expect(await labelOnDisk()).toBe('Amy F.');

    await page.getByRole('button', { name: 'Undo last decision' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Undid' }).waitFor();
    expect(await page.getByLabel('label').inputValue()).toBe('Amy');
    expect(await labelOnDisk()).toBe('Amy');
    expect(await labelInManifest()).toBe('Amy');
  });

  it('splits faces off (click, shift-click) into a new identity and moves one back, by clicking', async () => {
    const before = (await setsOnDisk()).find((s) => s.name === firstAmy)!;
    const faces = page.getByTestId('face');
    const splitTwo = async () => {
      await faces.nth(1).click();
      await faces.nth(2).click({ modifiers: ['Shift'] });
      await page.getByTestId('actionbar').filter({ hasText: '2 faces selected' }).waitFor();
      await page.getByRole('button', { name: 'Split into a new identity' }).click();
      const notice = page.getByTestId('notice').filter({ hasText: 'Split 2 faces into' });
      await notice.waitFor();
      return { notice, name: /into (faceset_\d{3})/.exec((await notice.textContent()) ?? '')![1]! };
    };
    // The undo the page offers after a split puts both folders back as they were (it answered 500 before).
    const first = await splitTwo();
    expect(await first.notice.getByRole('button', { name: `Open ${first.name}` }).count()).toBe(1);
    await page.getByRole('button', { name: 'Undo last decision' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Undid' }).waitFor();
    await expect.poll(() => page.getByTestId('face').count()).toBe(before.pngs.length);
    let sets = await setsOnDisk();
    expect(sets.find((s) => s.name === first.name)).toBeUndefined();
    expect(sets.find((s) => s.name === firstAmy)!.pngs).toEqual(before.pngs);

    const { notice: done, name: newName } = await splitTwo();
    expect(newName).not.toBe(first.name); // a retired name is never used again
    sets = await setsOnDisk();
    const split = sets.find((s) => s.name === newName)!;
    expect(split.pngs).toHaveLength(2);
    expect(split.people).toEqual(['amy']);
    expect(sets.find((s) => s.name === firstAmy)!.pngs).toEqual(before.pngs.filter((p) => !split.pngs.includes(p)));

    await done.getByRole('button', { name: `Open ${newName}` }).click();
    await page.getByTestId('identity-title').filter({ hasText: newName }).waitFor();
    await expect.poll(() => page.getByTestId('face').count()).toBe(2);
    await page.getByTestId('face').first().click();
    await page.getByLabel('move to').selectOption({ label: `Amy (${firstAmy}) (2)` });
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.getByTestId('notice').filter({ hasText: `Moved 1 face to Amy (${firstAmy})` }).waitFor();
    await expect.poll(() => page.getByTestId('face').count()).toBe(1);
    sets = await setsOnDisk();
    expect(sets.find((s) => s.name === firstAmy)!.pngs).toHaveLength(3);
    expect(sets.find((s) => s.name === newName)!.pngs).toHaveLength(1);
    const manifest = await readJson(join(out, 'manifest.json'));
    const all = [...manifest.facesets, ...manifest.thin_eras] as { name: string; count: number }[];
    expect(all.find((e) => e.name === firstAmy)?.count).toBe(3);
    expect(all.find((e) => e.name === newName)?.count).toBe(1);
  });

  it('shows each face’s pose and the set’s pose coverage, orders by yaw, folds near-duplicates and brings one back', async () => {
    // Obama's photos with their copies: obama4.jpg is obama.jpg again, misc/32bit.png is obama2.jpg again.
    const curated = join(env.outputDir, 'curated');
    await mkdir(curated);
    const files = ['people/obama/obama.jpg', 'people/obama/obama2.jpg', 'people/obama/obama4.jpg', 'misc/32bit.png', 'groups/obama_and_biden.jpg'];
    await waitForJob(await submitJob({ bucket: await bucketOf('curated', files), outputRoot: curated, params: PARAMS }));
    const list = await api<{ items: { id: string; name: string }[] }>('GET', `/identities?outputRoot=${encodeURIComponent(curated)}`);
    const details = await Promise.all(list.items.map((i) => api<{ id: string; name: string; faces: { id: string; png: string; sources: string[]; exported: boolean; pose: { yaw: number } | null; left: { duplicateOf: string | null } | null }[] }>('GET', `/identities/${i.id}`)));
    const obama = details.find((d) => d.faces.some((f) => f.sources.some((p) => p.endsWith('obama2.jpg'))))!;
    await page.goto(`${baseUrl}/ui?identity=${obama.id}`);
    await page.getByTestId('identity-title').filter({ hasText: obama.name }).waitFor();
    const tiles = page.getByTestId('face');
    await expect.poll(() => tiles.count()).toBe(obama.faces.length);
    // Every face says its pose; the plot has a dot per face.
    for (const text of await page.getByTestId('face-pose').allTextContents()) expect(text).toMatch(/^yaw −?\d+° · pitch −?\d+°$/);
    expect(await page.getByTestId('pose-dot').count()).toBe(obama.faces.filter((f) => f.pose).length);
    // Near-duplicates folded under the face kept for their shot, with their reason.
    const dups = obama.faces.filter((f) => f.left?.duplicateOf);
    expect(dups).toHaveLength(2);
    expect(await page.getByTestId('shot').count()).toBe(2);
    for (const d of dups) {
      const shot = page.getByTestId('shot').filter({ has: page.locator(`[data-face-id="${d.left!.duplicateOf}"]`) });
      await shot.locator('summary').click();
      const tile = shot.locator(`[data-face-id="${d.id}"]`);
      await tile.waitFor();
      expect(await tile.getAttribute('data-exported')).toBe('false');
      expect(await tile.getByTestId('left-reason').textContent()).toBe(`near-duplicate of ${obama.faces.find((f) => f.id === d.left!.duplicateOf)!.png}`);
    }
    // Ordered by yaw: the kept faces' tiles go left to right.
    await page.getByLabel('order').selectOption('yaw');
    const shown = await page.locator('[data-testid="faces"] > [data-testid="face"], [data-testid="shot"] > [data-testid="face"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-face-id')));
    const kept = obama.faces.filter((f) => !f.left?.duplicateOf);
    expect(shown).toEqual([...kept].sort((a, b) => (a.pose?.yaw ?? 999) - (b.pose?.yaw ?? 999)).map((f) => f.id));

    // Bring obama2.jpg's face back: it is exported, and the copy it duplicates (32bit.png) is left out instead.
    const obama2 = obama.faces.find((f) => f.sources.some((p) => p.endsWith('obama2.jpg')))!;
    const shot = page.getByTestId('shot').filter({ has: page.locator(`[data-face-id="${obama2.left!.duplicateOf}"]`) });
    if (!(await shot.locator(`[data-face-id="${obama2.id}"]`).isVisible())) await shot.locator('summary').click();
    await shot.locator(`[data-face-id="${obama2.id}"]`).click();
    await page.getByRole('button', { name: 'Export (bring back)' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Exported 1 left-out face' }).waitFor();
    await expect.poll(async () => page.locator(`[data-face-id="${obama2.id}"]`).getAttribute('data-exported')).toBe('true');
    const dir = join(curated, (await readdir(curated)).includes(obama.name) ? obama.name : `_thin/${obama.name}`);
    const file = await readJson(join(dir, 'faceset.json'));
    expect(file.members.map((m: { png: string }) => m.png)).toContain(obama2.png);
    expect((await readdir(dir)).filter((n) => n.endsWith('.png')).sort()).toEqual(file.members.map((m: { png: string }) => m.png).sort());
    const thirtyTwo = obama.faces.find((f) => f.sources.some((p) => p.endsWith('32bit.png')))!;
    expect(file.left).toContainEqual(expect.objectContaining({ reason: `near-duplicate of ${obama2.png}`, sha256: expect.any(String) }));
    expect(file.members.map((m: { png: string }) => m.png)).not.toContain(thirtyTwo.png);
  });
});
