// Identities through the real API, queues, workers and database: after each decision the folders, faceset.json files
// and manifest.json on disk say exactly what the records say, and forced re-runs of discover and extend keep it so.
import { cp, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestChannel, type ManifestEvent } from '@facesets/shared/events/manifest-events';
import type { IdentityDetail, IdentitySummary } from '@facesets/shared/identities/contracts';
import { buildApp } from '../../services/api/src/app';
import { fixtureLabels } from '../discovery/fixture-faces';
import { closeSharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';

/** As in discover-jobs.test.ts: the fixture people hold 5 photos each and small faces; 256 px crops keep it cheap. */
const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 256 };
const PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny'];

const labels = fixtureLabels();
let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
let subscriber: Redis;
const events: ManifestEvent[] = [];
let out: string;
let bucket: string;

const readJson = async (p: string): Promise<any> => JSON.parse(await readFile(p, 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON

const who = (source: string): string => labels.get(relative(bucket, source))!;

interface Disk {
  path: string;
  pngs: string[];
  file: { name: string; label?: string; members: { png: string; sources: string[]; sha256: string }[] };
}

/** Every face set folder of the output root, by name, each with its PNGs and faceset.json. */
async function disk(): Promise<Map<string, Disk>> {
  const sets = new Map<string, Disk>();
  for (const dir of ['', '_thin']) {
    const names = await readdir(join(out, dir)).catch(() => [] as string[]);
    for (const name of names.filter((n) => /^faceset_\d{3}$/.test(n))) {
      const path = dir ? `${dir}/${name}` : name;
      const pngs = (await readdir(join(out, path))).filter((n) => n.endsWith('.png')).sort();
      sets.set(name, { path, pngs, file: await readJson(join(out, path, 'faceset.json')) });
    }
  }
  return sets;
}

async function manifest(): Promise<{ facesets: any[]; thin_eras: any[]; merged?: any[]; deleted?: any[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
  return readJson(join(out, 'manifest.json'));
}

const entryOf = async (name: string) => {
  const m = await manifest();
  return [...m.facesets, ...m.thin_eras].find((e) => e.name === name);
};

async function list(): Promise<IdentitySummary[]> {
  const res = await app.inject({ method: 'GET', url: `/identities?outputRoot=${encodeURIComponent(out)}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: IdentitySummary[] }>().items;
}

async function detail(id: string): Promise<IdentityDetail> {
  const res = await app.inject({ method: 'GET', url: `/identities/${id}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<IdentityDetail>();
}

async function call(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, version?: number) {
  return app.inject({ method, url, ...(payload ? { payload } : {}), headers: version === undefined ? {} : { 'if-match': `"${version}"` } });
}

/** Folder, faceset.json and manifest entry agree with the identity record. */
async function expectOnDisk(d: IdentityDetail): Promise<void> {
  const sets = await disk();
  const set = sets.get(d.name);
  expect(set, d.name).toBeDefined();
  expect(set!.path).toBe(d.path);
  expect(set!.pngs).toEqual(d.faces.map((f) => f.png).sort());
  expect(set!.file.members.map((m) => m.png).sort()).toEqual(d.faces.map((f) => f.png).sort());
  expect(set!.file.label).toBe(d.label ?? undefined);
  const entry = await entryOf(d.name);
  expect(entry).toMatchObject({ path: d.path, count: d.count });
  expect(entry.label).toBe(d.label ?? undefined);
}

const byPerson = async (): Promise<Map<string, IdentitySummary>> => {
  const out = new Map<string, IdentitySummary>();
  for (const i of (await list()).filter((x) => x.state === 'active')) {
    const d = await detail(i.id);
    out.set(who(d.faces[0]!.sources[0]!), i);
  }
  return out;
};

beforeAll(async () => {
  env = await createTestEnv();
  app = await startApi(env);
  workers = await startWorkers(env);
  subscriber = new Redis(env.config.redisUrl);
  subscriber.on('message', (_c, message) => events.push(JSON.parse(message) as ManifestEvent));
  await subscriber.subscribe(manifestChannel(env.config.queuePrefix, env.config.redisUrl));
  bucket = join(env.bucketsDir, 'people');
  for (const p of PEOPLE) await cp(join(FIXTURES_DIR, 'people', p), join(bucket, 'people', p), { recursive: true });
  out = join(env.outputDir, 'sets');
  await mkdir(out);
}, 60_000);

afterAll(async () => {
  await subscriber?.quit();
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('identities API', () => {
  let people: Map<string, IdentitySummary>;

  it('lists the identities a discover job made, one per person, each matching its folder', async () => {
    const id = await submit(app, { bucket, outputRoot: out, params: PARAMS });
    expect((await waitForJob(app, id)).state).toBe('completed');
    const items = await list();
    expect(items.map((i) => i.name)).toEqual(['faceset_001', 'faceset_002', 'faceset_003', 'faceset_004', 'faceset_005']);
    people = await byPerson();
    expect([...people.keys()].sort()).toEqual(PEOPLE);
    for (const i of items) {
      expect(i).toMatchObject({ state: 'active', version: 1, label: null, outputRoot: out });
      await expectOnDisk(await detail(i.id));
    }
    const d = await detail(items[0]!.id);
    expect(d.faces[0]).toMatchObject({ origin: 'discovered', thumb: `/faces/${d.faces[0]!.id}/thumb` });
    // `file` names the member's file; `png` says the same for one more release (deprecated).
    for (const f of d.faces) expect([f.file, f.png]).toEqual([f.png, expect.stringMatching(/\.png$/)]);
    const thumb = await app.inject({ method: 'GET', url: `${d.faces[0]!.thumb}?size=96` });
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect((await import('sharp')).default(thumb.rawPayload).metadata()).resolves.toMatchObject({ width: 96, height: 96 });
    const again = await app.inject({ method: 'GET', url: `${d.faces[0]!.thumb}?size=96`, headers: { 'if-none-match': thumb.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    const sheet = await app.inject({ method: 'GET', url: `/identities/${d.id}/contact-sheet` });
    expect([sheet.statusCode, sheet.headers['content-type']]).toEqual([200, 'image/png']);
  });

  it('reject: the PNG leaves the folder, faceset.json and the count; a stale If-Match is a 409; bad ids are named', async () => {
    const amy = await detail(people.get('amy')!.id);
    const face = amy.faces.at(-1)!;
    expect((await call('POST', `/identities/${amy.id}/reject`, { faceIds: [face.id] }, amy.version + 1)).statusCode).toBe(409);
    const bad = await call('POST', `/identities/${amy.id}/reject`, { faceIds: ['not-a-face'] });
    expect([bad.statusCode, bad.json().message]).toEqual([400, 'body/faceIds are not face ids: not-a-face']);
    const other = (await detail(people.get('howard')!.id)).faces[0]!.id;
    const wrong = await call('POST', `/identities/${amy.id}/reject`, { faceIds: [other] });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().message).toBe(`faceIds not in identity ${amy.name}: ${other}`);
    const res = await call('POST', `/identities/${amy.id}/reject`, { faceIds: [face.id] }, amy.version);
    expect(res.statusCode, res.body).toBe(200);
    const after = res.json<IdentityDetail>();
    expect(after.version).toBe(amy.version + 1);
    expect(after.faces.map((f) => f.id)).not.toContain(face.id);
    expect(res.headers.etag).toBe(`"${after.version}"`);
    await expectOnDisk(after);
    await expect.poll(() => events.some((e) => e.decisionId && e.extended.includes(amy.name))).toBe(true);
    const history = (await app.inject({ method: 'GET', url: `/identities/${amy.id}/history` })).json().items;
    expect(history[0]).toMatchObject({ kind: 'reject', faceIds: [face.id], actor: 'local', identityId: amy.id });
  });

  it('a change whose disk writes were interrupted is finished by the next touch of the root', async () => {
    const bern = await detail(people.get('bernadette')!.id);
    const dir = join(out, bern.path);
    const before = await readFile(join(dir, 'faceset.json'));
    const png = await readFile(join(dir, bern.faces[0]!.png));
    const res = await call('POST', `/identities/${bern.id}/reject`, { faceIds: [bern.faces[0]!.id] });
    expect(res.statusCode, res.body).toBe(200);
    // As if the process died after the records were committed and before the folder was rewritten.
    await (await import('node:fs/promises')).writeFile(join(dir, 'faceset.json'), before);
    await (await import('node:fs/promises')).writeFile(join(dir, bern.faces[0]!.png), png);
    const sync = await app.inject({ method: 'POST', url: '/output-roots/sync', payload: { outputRoot: out } });
    expect(sync.json()).toMatchObject({ rejected: [], adopted: [] });
    await expectOnDisk(await detail(bern.id));
    expect((await call('POST', `/identities/${bern.id}/undo`)).statusCode).toBe(200);
    await expectOnDisk(await detail(bern.id));
  });

  it('label: in faceset.json and the manifest entry; the folder name stays', async () => {
    const raj = people.get('bernadette')!;
    const res = await call('PATCH', `/identities/${raj.id}`, { label: 'Bernadette' });
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json<IdentityDetail>();
    expect(d).toMatchObject({ label: 'Bernadette', name: raj.name, path: raj.path });
    await expectOnDisk(d);
  });

  let splitName: string;
  it('split: the faces move into a new identity numbered next; both folders follow', async () => {
    const howard = await detail(people.get('howard')!.id);
    const moved = howard.faces.slice(0, 2).map((f) => f.id);
    const res = await call('POST', `/identities/${howard.id}/split`, { faceIds: moved });
    expect(res.statusCode, res.body).toBe(201);
    const fresh = res.json<IdentityDetail>();
    splitName = fresh.name;
    expect(fresh.name).toBe('faceset_006');
    expect(fresh.faces.map((f) => f.id).sort()).toEqual([...moved].sort());
    expect(fresh.thin).toBe(true);
    await expectOnDisk(fresh);
    await expectOnDisk(await detail(howard.id));
  });

  it('merge, then undo: the merged folder goes and comes back; the manifest says where it went', async () => {
    const howard = people.get('howard')!;
    const split = (await list()).find((i) => i.name === splitName)!;
    const before = await detail(howard.id);
    const res = await call('POST', `/identities/${howard.id}/merge`, { from: [split.id] });
    expect(res.statusCode, res.body).toBe(200);
    const merged = res.json<IdentityDetail>();
    expect(merged.faces).toHaveLength(before.faces.length + 2);
    await expectOnDisk(merged);
    expect((await disk()).has(splitName)).toBe(false);
    const m = await manifest();
    expect(m.merged).toEqual([{ name: splitName, into: howard.name, at: expect.any(String) }]);
    expect(await entryOf(splitName)).toBeUndefined();
    expect((await list()).find((i) => i.name === splitName)).toMatchObject({ state: 'merged', mergedInto: howard.id });
    // A retired identity takes no decision but undo.
    expect((await call('POST', `/identities/${split.id}/reject`, { faceIds: [before.faces[0]!.id] })).statusCode).toBe(409);

    const undo = await call('POST', `/identities/${howard.id}/undo`);
    expect(undo.statusCode, undo.body).toBe(200);
    await expectOnDisk(undo.json<IdentityDetail>());
    await expectOnDisk(await detail(split.id));
    expect((await manifest()).merged).toBeUndefined();
    const history = (await app.inject({ method: 'GET', url: `/identities/${howard.id}/history` })).json().items;
    expect(history.slice(0, 3).map((h: { kind: string }) => h.kind)).toEqual(['undo', 'merge', 'split']);
    expect(history[1].undoneBy).toBe(history[0].id);
  });

  it('merge for good: the split part goes back into howard', async () => {
    const howard = people.get('howard')!;
    const split = (await list()).find((i) => i.name === splitName)!;
    const res = await call('POST', `/identities/${howard.id}/merge`, { from: [split.id] });
    expect(res.statusCode, res.body).toBe(200);
    await expectOnDisk(res.json<IdentityDetail>());
  });

  it('assign: a face moves from one identity to another, pinned there', async () => {
    const leonard = await detail(people.get('leonard')!.id);
    const penny = await detail(people.get('penny')!.id);
    const res = await call('POST', `/identities/${penny.id}/assign`, { faceIds: [leonard.faces[0]!.id] });
    expect(res.statusCode, res.body).toBe(200);
    const after = res.json<IdentityDetail>();
    expect(after.faces.find((f) => f.id === leonard.faces[0]!.id)).toMatchObject({ origin: 'assigned' });
    await expectOnDisk(after);
    await expectOnDisk(await detail(leonard.id));
    // Undo puts it back.
    expect((await call('POST', `/identities/${penny.id}/undo`)).statusCode).toBe(200);
    expect((await detail(leonard.id)).faces.map((f) => f.id)).toContain(leonard.faces[0]!.id);
    await expectOnDisk(await detail(leonard.id));
  });

  let handDeleted: string;
  it('a PNG deleted by hand is recorded as a rejection by POST /output-roots/sync', async () => {
    const leonard = await detail(people.get('leonard')!.id);
    const gone = leonard.faces[1]!;
    handDeleted = gone.png;
    await rm(join(out, leonard.path, gone.png));
    const res = await app.inject({ method: 'POST', url: '/output-roots/sync', payload: { outputRoot: out } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outputRoot: out, adopted: [], rejected: [{ identityId: leonard.id, name: leonard.name, faceIds: [gone.id] }] });
    const after = await detail(leonard.id);
    expect(after.faces.map((f) => f.id)).not.toContain(gone.id);
    await expectOnDisk(after);
    const history = (await app.inject({ method: 'GET', url: `/identities/${leonard.id}/history` })).json().items;
    expect(history[0]).toMatchObject({ kind: 'reject', detail: { source: 'disk', pngs: [gone.png] } });
  });

  it('delete: the folder and manifest entry go, the name is listed as deleted', async () => {
    const penny = people.get('penny')!;
    const res = await call('DELETE', `/identities/${penny.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ state: 'deleted' });
    expect((await disk()).has(penny.name)).toBe(false);
    expect(await entryOf(penny.name)).toBeUndefined();
    expect((await manifest()).deleted).toEqual([{ name: penny.name, at: expect.any(String) }]);
  });

  it('forced re-runs of discover and extend bring back no rejected face, no merged or deleted identity, no hand-deleted PNG', async () => {
    // One more PNG deleted by hand, this time noticed by the job itself (listing would notice it too: list first).
    const identitiesBefore = await list();
    const amy = await detail(people.get('amy')!.id);
    const byJob = amy.faces[0]!;
    await rm(join(out, amy.path, byJob.png));
    const before = await disk();
    for (const mode of ['discover', 'extend'] as const) {
      const id = await submit(app, { bucket, outputRoot: out, mode, force: true, params: PARAMS });
      const job = await waitForJob(app, id);
      expect([job.state, job.error]).toEqual(['completed', null]);
      expect(job.summary).toMatchObject({ added: [], extended: [] });
      const after = await disk();
      expect([...after.keys()].sort(), mode).toEqual([...before.keys()].sort());
      for (const [name, set] of before) expect(after.get(name)!.pngs, `${mode} ${name}`).toEqual(set.pngs);
      expect(after.get(people.get('leonard')!.name)!.pngs).not.toContain(handDeleted);
      expect(after.get(amy.name)!.pngs).not.toContain(byJob.png);
      const now = await list();
      expect(now.map((i) => [i.name, i.state]), mode).toEqual(identitiesBefore.map((i) => [i.name, i.state]));
      // Only amy changed (the job recorded her hand-deleted PNG), and only once.
      expect(now.filter((i, k) => i.version !== identitiesBefore[k]!.version).map((i) => [i.name, i.version])).toEqual([[amy.name, amy.version + 1]]);
      await expectOnDisk(await detail(amy.id));
    }
    const history = (await app.inject({ method: 'GET', url: `/identities/${amy.id}/history` })).json().items;
    expect(history[0]).toMatchObject({ kind: 'reject', faceIds: [byJob.id], detail: { source: 'disk' } });
  }, 300_000);

  it('suggests by centroid distance with evidence, and lists the least certain members', async () => {
    const amy = people.get('amy')!;
    const res = await app.inject({ method: 'GET', url: `/identities/${amy.id}/suggestions` });
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json();
    expect(s.band).toEqual({ from: 0.45, to: 0.62 });
    for (const m of s.merge) {
      expect(m.centroidDistance).toBeLessThanOrEqual(0.62);
      expect(m.closestPairs.length).toBeGreaterThan(0);
    }
    expect(s.uncertain.length).toBeGreaterThan(0);
    expect(s.uncertain[0]).toMatchObject({ faceId: expect.any(String), distance: expect.any(Number) });
  });

  it('adopts an output root written before identities existed (or by hand) the first time a call touches it', async () => {
    const old = join(env.outputDir, 'old');
    const amy = await detail(people.get('amy')!.id);
    await mkdir(old);
    await cp(join(out, amy.path), join(old, 'faceset_007'), { recursive: true });
    const file = await readJson(join(old, 'faceset_007', 'faceset.json'));
    // A member a tool added by hand, with no face record behind it: kept as it is.
    file.members.push({ png: 'by-hand.png', note: 'mine' });
    await (await import('node:fs/promises')).writeFile(join(old, 'faceset_007', 'faceset.json'), JSON.stringify(file));
    await (await import('node:fs/promises')).writeFile(join(old, 'faceset_007', 'by-hand.png'), 'not really a png');
    const res = await app.inject({ method: 'GET', url: `/identities?outputRoot=${encodeURIComponent(old)}` });
    expect(res.statusCode, res.body).toBe(200);
    const [adopted] = res.json<{ items: IdentitySummary[] }>().items;
    expect(adopted).toMatchObject({ name: 'faceset_007', path: 'faceset_007', count: amy.count + 1, state: 'active', version: 1 });
    const d = await detail(adopted!.id);
    expect(d.faces.map((f) => f.png).sort()).toEqual(amy.faces.map((f) => f.png).sort());
    expect(d.foreignMembers).toBe(1);
    // A decision rewrites the folder and keeps the hand-made member and its file.
    const res2 = await call('POST', `/identities/${d.id}/reject`, { faceIds: [d.faces[0]!.id] });
    expect(res2.statusCode, res2.body).toBe(200);
    // Two faces and the hand-made member are below thinBelow: the folder moved under _thin/.
    expect(res2.json().path).toBe('_thin/faceset_007');
    const after = await readJson(join(old, '_thin/faceset_007', 'faceset.json'));
    expect(after.members.map((m: { png: string }) => m.png).sort()).toEqual([...d.faces.slice(1).map((f) => f.png), 'by-hand.png'].sort());
    expect(after.members.find((m: { png: string }) => m.png === 'by-hand.png')).toEqual({ png: 'by-hand.png', note: 'mine' });
    expect(await readdir(join(old, '_thin/faceset_007'))).toContain('by-hand.png');
  });

  it('answers 404 for unknown identities, refuses requests without the token when one is set, documents every route', async () => {
    expect((await app.inject({ method: 'GET', url: '/identities/00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    const guarded = await buildApp({ config: { ...env.config, apiToken: 'sesame' } });
    try {
      const id = people.get('amy')!.id;
      expect((await guarded.inject({ method: 'GET', url: `/identities/${id}` })).statusCode).toBe(401);
      const ok = await guarded.inject({ method: 'PATCH', url: `/identities/${id}`, payload: { label: 'Amy' }, headers: { authorization: 'Bearer sesame' } });
      expect(ok.statusCode, ok.body).toBe(200);
      const history = (await guarded.inject({ method: 'GET', url: `/identities/${id}/history`, headers: { authorization: 'Bearer sesame' } })).json().items;
      expect(history[0]).toMatchObject({ kind: 'label', actor: expect.stringMatching(/^token:[0-9a-f]{8}$/) });
      const doc = (await guarded.inject({ method: 'GET', url: '/docs/json' })).json();
      for (const route of ['/identities', '/identities/{id}', '/identities/{id}/reject', '/identities/{id}/assign', '/identities/{id}/merge', '/identities/{id}/split', '/identities/{id}/undo', '/identities/{id}/history', '/identities/{id}/suggestions', '/faces/{faceId}/thumb', '/output-roots/sync']) {
        expect(doc.paths[route], route).toBeDefined();
      }
    } finally {
      await guarded.close();
    }
    expect((await stat(join(out, 'manifest.json'))).isFile()).toBe(true);
  });
});
