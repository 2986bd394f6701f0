// An output root's own files are untrusted input (issue 20): crafted member names and sources, symlinks, nested,
// deleted and corrupted roots, bursts of decisions, bad labels and cursors, through the real API, queues and disk.
// Each case works on its own copy of one discover job's root, adopted the way a root from another machine is.
import { cp, lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityDetail, IdentitySummary } from '@facesets/shared/identities/contracts';
import { buildApp } from '../../services/api/src/app';
import { closeSharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';

const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 128 };
const PEOPLE = ['amy', 'howard', 'penny'];

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
let base: string;
let outside: string;
let red: string;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test edits arbitrary faceset.json
const readJson = async (p: string): Promise<Json> => JSON.parse(await readFile(p, 'utf8')) as Json;

/** One request; a string payload is sent as raw JSON text (for escapes JSON.stringify would not make). */
async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object | string, version?: number, to = app) {
  const headers: Record<string, string> = {};
  if (typeof payload === 'string') headers['content-type'] = 'application/json';
  if (version !== undefined) headers['if-match'] = `"${version}"`;
  return to.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

async function list(root: string): Promise<IdentitySummary[]> {
  const res = await call('GET', `/identities?outputRoot=${encodeURIComponent(root)}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: IdentitySummary[] }>().items;
}

async function detail(id: string): Promise<IdentityDetail> {
  const res = await call('GET', `/identities/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<IdentityDetail>();
}

/** A copy of the discover job's root under a new name, adopted by a sync; its identities by name. */
async function copyRoot(name: string, edit?: (root: string) => Promise<void>): Promise<{ root: string; byName: Map<string, IdentitySummary> }> {
  const root = join(env.outputDir, name);
  await cp(base, root, { recursive: true });
  await edit?.(root);
  const sync = await call('POST', '/output-roots/sync', { outputRoot: root });
  expect(sync.statusCode, sync.body).toBe(200);
  return { root, byName: new Map((await list(root)).map((i) => [i.name, i])) };
}

/** PNGs and faceset.json member names of a set folder agree with the identity's records. */
async function expectFolderMatches(root: string, d: IdentityDetail): Promise<void> {
  const dir = join(root, d.path);
  const pngs = (await readdir(dir)).filter((n) => n.endsWith('.png')).sort();
  expect(pngs).toEqual(d.faces.map((f) => f.png).sort());
  const file = await readJson(join(dir, 'faceset.json'));
  expect((file.members as Json[]).map((m) => m.png).sort()).toEqual(d.faces.map((f) => f.png).sort());
  for (const p of pngs) expect((await lstat(join(dir, p))).isFile(), p).toBe(true);
}

/** True when the image was cut from the solid red picture planted outside the roots (red, or red and padding). */
async function isRed(image: Buffer): Promise<boolean> {
  const { channels } = await sharp(image).stats();
  return channels[0]!.mean > 50 && channels[1]!.mean < 12 && channels[2]!.mean < 12;
}

beforeAll(async () => {
  env = await createTestEnv();
  app = await startApi(env);
  workers = await startWorkers(env);
  const bucket = join(env.bucketsDir, 'people');
  for (const p of PEOPLE) await cp(join(FIXTURES_DIR, 'people', p), join(bucket, p), { recursive: true });
  base = join(env.outputDir, 'base');
  await mkdir(base);
  const id = await submit(app, { bucket, outputRoot: base, params: PARAMS });
  expect((await waitForJob(app, id)).state).toBe('completed');
  // Outside every root: a victim file, a solid red photo and picture.
  outside = join(env.root, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'victim.png'), 'victim');
  red = join(outside, 'red.jpg');
  // Larger than any fixture photo, so that every face's keypoints fall inside it.
  await sharp({ create: { width: 4000, height: 4000, channels: 3, background: { r: 255, g: 0, b: 0 } } }).jpeg().toFile(red);
  await sharp({ create: { width: 128, height: 128, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toFile(join(outside, 'red.png'));
}, 120_000);

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('what an output root holds is untrusted', () => {
  it('1. a member name that is a path is kept as a foreign member and never used: no file outside is deleted or written', async () => {
    const victim = join(outside, 'victim.png');
    const { root, byName } = await copyRoot('names', async (r) => {
      const file = join(r, 'faceset_001', 'faceset.json');
      const json = await readJson(file);
      json.members[0].png = relative(join(r, 'faceset_001'), victim); // ../../../outside/victim.png
      await writeFile(file, JSON.stringify(json));
    });
    const set = await detail(byName.get('faceset_001')!.id);
    expect(set.faces.map((f) => f.png)).not.toContain(relative(join(root, 'faceset_001'), victim));
    expect(set.count).toBe(set.faces.length + 1); // the crafted member stays, verbatim, as a foreign one
    expect((await call('POST', `/identities/${set.id}/reject`, { faceIds: [set.faces[0]!.id] })).statusCode).toBe(200);
    expect((await call('DELETE', `/identities/${set.id}`)).statusCode).toBe(200);
    expect((await call('POST', `/identities/${set.id}/undo`)).statusCode).toBe(200);
    // An adopted identity whose faceset.json is edited later to name a path: the next decision ignores the name.
    const other = await detail(byName.get('faceset_002')!.id);
    const file = join(root, other.path, 'faceset.json');
    const json = await readJson(file);
    json.members.push({ ...json.members[0], png: relative(join(root, other.path), victim) });
    await writeFile(file, JSON.stringify(json));
    expect((await call('POST', `/identities/${other.id}/reject`, { faceIds: [other.faces[0]!.id] })).statusCode).toBe(200);
    expect(await readFile(victim, 'utf8')).toBe('victim');
    await expectFolderMatches(root, await detail(other.id));
  });

  it('2. sources are read only under BUCKET_ROOTS: a member listing an outside photo is cropped from its scanned source', async () => {
    const { root, byName } = await copyRoot('sources', async (r) => {
      const file = join(r, 'faceset_002', 'faceset.json');
      const json = await readJson(file);
      for (const m of json.members as Json[]) m.sources = [red];
      await writeFile(file, JSON.stringify(json));
    });
    const set = await detail(byName.get('faceset_002')!.id);
    expect((await call('DELETE', `/identities/${set.id}`)).statusCode).toBe(200);
    expect(existsSync(join(root, set.path))).toBe(false);
    const undo = await call('POST', `/identities/${set.id}/undo`);
    expect(undo.statusCode, undo.body).toBe(200);
    const back = await detail(set.id);
    await expectFolderMatches(root, back);
    for (const f of back.faces) expect(await isRed(await readFile(join(root, back.path, f.png))), f.png).toBe(false);
  });

  it('3a. a member file swapped for a symlink is never served or drawn; the next sync replaces it with a real crop', async () => {
    const { root, byName } = await copyRoot('member-link');
    const set = await detail(byName.get('faceset_003')!.id);
    const face = set.faces[0]!;
    const file = join(root, set.path, face.png);
    const planted = await readFile(join(outside, 'red.png'));
    await rm(file);
    await symlink(join(outside, 'red.png'), file);
    const thumb = await call('GET', `/faces/${face.id}/thumb?size=73&format=png`);
    expect(thumb.statusCode).toBe(200);
    expect(await isRed(thumb.rawPayload)).toBe(false);
    const sync = await call('POST', '/output-roots/sync', { outputRoot: root });
    expect(sync.json()).toMatchObject({ rejected: [], refused: [] });
    expect((await lstat(file)).isSymbolicLink()).toBe(false);
    expect(await isRed(await readFile(file))).toBe(false);
    expect((await readFile(join(outside, 'red.png'))).equals(planted)).toBe(true);
    await expectFolderMatches(root, await detail(set.id));
  });

  it('3b. a set folder that is a symlink is refused with its reason: nothing outside is written or pruned', async () => {
    const elsewhere = join(outside, 'set-copy');
    const { root, byName } = await copyRoot('folder-link');
    await rename(join(root, 'faceset_001'), elsewhere);
    await symlink(elsewhere, join(root, 'faceset_001'));
    const before = (await readdir(elsewhere)).sort();
    const json = await readFile(join(elsewhere, 'faceset.json'), 'utf8');
    const sync = await call('POST', '/output-roots/sync', { outputRoot: root });
    expect(sync.statusCode, sync.body).toBe(200);
    expect(sync.json().refused).toEqual([{ name: 'faceset_001', reason: expect.stringMatching(/faceset_001 is a symlink/) }]);
    const set = byName.get('faceset_001')!;
    const face = (await detail(set.id)).faces[0]!;
    const res = await call('POST', `/identities/${set.id}/reject`, { faceIds: [face.id] });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().message).toMatch(/faceset_001 is a symlink/);
    expect((await detail(set.id)).faces.map((f) => f.id)).toContain(face.id);
    expect((await readdir(elsewhere)).sort()).toEqual(before);
    expect(await readFile(join(elsewhere, 'faceset.json'), 'utf8')).toBe(json);
    // The other sets of the root still take decisions.
    const other = await detail(byName.get('faceset_002')!.id);
    expect((await call('PATCH', `/identities/${other.id}`, { label: 'Still fine' })).statusCode).toBe(200);
    // _thin or _reports as a link refuse the whole root: no job or decision writes through them.
    const thinLinked = await copyRoot('thin-link');
    await rm(join(thinLinked.root, '_reports'), { recursive: true, force: true });
    await symlink(outside, join(thinLinked.root, '_reports'));
    const refused = await call('PATCH', `/identities/${thinLinked.byName.get('faceset_002')!.id}`, { label: 'x' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/_reports is a symlink/);
  });

  it('3c. more of the kind: a file where a set folder was, faceset.json as a link, garbage keypoints', async () => {
    const outsideJson = join(outside, 'faceset-outside.json');
    const { root, byName } = await copyRoot('odd-entries', async (r) => {
      // faceset_003's faceset.json points outside; faceset_002's keypoints are not numbers.
      await cp(join(r, 'faceset_003', 'faceset.json'), outsideJson);
      await rm(join(r, 'faceset_003', 'faceset.json'));
      await symlink(outsideJson, join(r, 'faceset_003', 'faceset.json'));
      const file = join(r, 'faceset_002', 'faceset.json');
      const json = await readJson(file);
      for (const m of json.members as Json[]) m.kps = ['a', 'b', 'c', 'd', 'e'];
      await writeFile(file, JSON.stringify(json));
    });
    const outsideBefore = await readFile(outsideJson, 'utf8');
    // A link is not read: the folder is adopted as a set without known members, and writing it replaces the link.
    const linked = await detail(byName.get('faceset_003')!.id);
    expect(linked.faces).toHaveLength(0);
    const labelled = await call('PATCH', `/identities/${linked.id}`, { label: 'Linked' });
    expect(labelled.statusCode).toBe(200);
    const at = join(root, labelled.json<IdentityDetail>().path, 'faceset.json'); // moved to _thin/: it has no faces
    expect((await lstat(at)).isSymbolicLink()).toBe(false);
    expect((await readJson(at)).label).toBe('Linked');
    expect(await readFile(outsideJson, 'utf8')).toBe(outsideBefore);
    // Keypoints are the engine's, not the file's: a delete and its undo crop every face again.
    const odd = await detail(byName.get('faceset_002')!.id);
    expect(odd.faces.length).toBeGreaterThan(0);
    expect((await call('DELETE', `/identities/${odd.id}`)).statusCode).toBe(200);
    expect((await call('POST', `/identities/${odd.id}/undo`)).statusCode).toBe(200);
    await expectFolderMatches(root, await detail(odd.id));
    // A plain file where a set folder was: left alone and named; the other sets go on.
    const gone = await detail(byName.get('faceset_001')!.id);
    await rm(join(root, gone.path), { recursive: true });
    await writeFile(join(root, gone.path), 'not a folder');
    const sync = await call('POST', '/output-roots/sync', { outputRoot: root });
    expect(sync.statusCode, sync.body).toBe(200);
    expect(sync.json().refused).toEqual([{ name: 'faceset_001', reason: expect.stringMatching(/is not a folder/) }]);
    expect((await call('POST', `/identities/${gone.id}/reject`, { faceIds: [gone.faces[0]!.id] })).statusCode).toBe(409);
    expect(await readFile(join(root, gone.path), 'utf8')).toBe('not a folder');
    expect((await call('PATCH', `/identities/${odd.id}`, { label: 'Fine' })).statusCode).toBe(200);
  });

  it('4. a root inside or around a known root is refused, for a sync and for a job', async () => {
    for (const nested of [join(base, 'faceset_001'), env.outputDir]) {
      const res = await call('POST', '/output-roots/sync', { outputRoot: nested });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().message).toMatch(/^body\/outputRoot lies inside or around .*an output root in use/);
    }
    await mkdir(join(base, '_thin'), { recursive: true });
    const listNested = await call('GET', `/identities?outputRoot=${encodeURIComponent(join(base, '_thin'))}`);
    expect(listNested.statusCode).toBe(400);
    const job = await call('POST', '/jobs', { bucket: join(env.bucketsDir, 'people'), outputRoot: join(base, 'faceset_002'), params: PARAMS });
    expect(job.statusCode).toBe(400);
    expect(job.json().message).toMatch(/^body\/outputRoot lies inside or around/);
    expect(existsSync(join(base, 'faceset_002', 'faceset_001'))).toBe(false);
  });

  it('5. a decision on a root that was deleted, or taken out of OUTPUT_ROOTS, answers 409 and recreates nothing', async () => {
    const gone = await copyRoot('gone');
    const id = gone.byName.get('faceset_001')!.id;
    await rm(gone.root, { recursive: true });
    const res = await call('PATCH', `/identities/${id}`, { label: 'Ghost' });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().message).toMatch(/does not exist any more/);
    expect(existsSync(gone.root)).toBe(false);

    const dropped = await copyRoot('dropped');
    const narrower = await buildApp({ config: { ...env.config, outputRoots: [join(env.outputDir, 'base')] } });
    try {
      const set = dropped.byName.get('faceset_001')!;
      const before = await readFile(join(dropped.root, set.path, 'faceset.json'), 'utf8');
      const r = await call('PATCH', `/identities/${set.id}`, { label: 'Nope' }, undefined, narrower);
      expect(r.statusCode, r.body).toBe(409);
      expect(r.json().message).toMatch(/no longer under OUTPUT_ROOTS/);
      expect(await readFile(join(dropped.root, set.path, 'faceset.json'), 'utf8')).toBe(before);
    } finally {
      await narrower.close();
    }
  });
});

describe('decisions hold under bursts and faults', () => {
  it('6. twenty PATCHes with one If-Match: one 200, nineteen 409, and /readyz stays 200 throughout', async () => {
    const { byName } = await copyRoot('burst');
    const set = await detail(byName.get('faceset_001')!.id);
    const patches = Array.from({ length: 20 }, (_, i) => call('PATCH', `/identities/${set.id}`, { label: `Burst ${i}` }, set.version));
    const probes = Array.from({ length: 10 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 30)).then(() => Promise.all([call('GET', '/readyz'), call('GET', '/jobs?limit=5')])),
    );
    const [answers, checks] = await Promise.all([Promise.all(patches), Promise.all(probes)]);
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes, answers.map((a) => a.body).join('\n')).toEqual([200, ...Array<number>(19).fill(409)]);
    for (const [ready, jobs] of checks) {
      expect(ready.statusCode, ready.body).toBe(200);
      expect(jobs.statusCode).toBe(200);
    }
    expect((await detail(set.id)).version).toBe(set.version + 1);
  });

  describe('7. every decision kind is undone through the API', () => {
    let root: string;
    let a: string;
    let b: string;
    let start: { state: string; label: string | null; faces: string[] }[];
    const state = async () =>
      Promise.all([a, b].map(async (id) => {
        const d = await detail(id);
        return { state: d.state, label: d.label, faces: d.faces.map((f) => f.id).sort() };
      }));
    beforeAll(async () => {
      const copy = await copyRoot('undo');
      root = copy.root;
      [a, b] = [copy.byName.get('faceset_001')!.id, copy.byName.get('faceset_002')!.id];
      start = await state();
    });
    const kinds: [string, () => Promise<{ statusCode: number; body: string }>][] = [
      ['split', async () => call('POST', `/identities/${a}/split`, { faceIds: [(await detail(a)).faces[0]!.id] })],
      ['merge', async () => call('POST', `/identities/${a}/merge`, { from: [b] })],
      ['assign', async () => call('POST', `/identities/${a}/assign`, { faceIds: [(await detail(b)).faces[0]!.id] })],
      ['reject', async () => call('POST', `/identities/${a}/reject`, { faceIds: [(await detail(a)).faces[1]!.id] })],
      ['label', async () => call('PATCH', `/identities/${a}`, { label: 'Undo me' })],
      ['delete', async () => call('DELETE', `/identities/${a}`)],
    ];
    for (const [kind, run] of kinds) {
      it(`undo of ${kind}: both identities, their folders and faceset.json files are as before`, async () => {
        const res = await run();
        expect(res.statusCode, `${kind}: ${res.body}`).toBeLessThan(300);
        expect(await state()).not.toEqual(start);
        const undo = await call('POST', `/identities/${a}/undo`);
        expect(undo.statusCode, `undo ${kind}: ${undo.body}`).toBe(200);
        expect(await state()).toEqual(start);
        for (const id of [a, b]) await expectFolderMatches(root, await detail(id));
        if (kind === 'split') {
          // The split's identity is retired by the undo, empty, its folder gone.
          const retired = (await list(root)).filter((i) => i.state === 'deleted');
          expect(retired).toHaveLength(1);
          expect(retired[0]!.count).toBe(0);
          expect(existsSync(join(root, retired[0]!.path))).toBe(false);
        }
      });
    }
  });

  it('8. a write that fails answers an error naming the file; the next sync finishes the recorded decision', async () => {
    const { root, byName } = await copyRoot('write-fails');
    const set = await detail(byName.get('faceset_001')!.id);
    const manifest = join(root, 'manifest.json');
    const good = await readFile(manifest, 'utf8');
    await writeFile(manifest, '{ not json');
    const face = set.faces[0]!;
    const res = await call('POST', `/identities/${set.id}/reject`, { faceIds: [face.id] });
    expect(res.statusCode).toBe(500);
    expect(res.json().message).toContain(manifest);
    expect(res.json().message).toMatch(/is recorded/);
    await writeFile(manifest, good);
    const sync = await call('POST', '/output-roots/sync', { outputRoot: root });
    expect(sync.statusCode, sync.body).toBe(200);
    const after = await detail(set.id);
    expect(after.faces.map((f) => f.id)).not.toContain(face.id);
    await expectFolderMatches(root, after);
    const entry = [...((await readJson(manifest)).facesets as Json[]), ...((await readJson(manifest)).thin_eras as Json[])].find((e) => e.name === set.name);
    expect(entry?.count).toBe(after.count);
    // A faceset.json edited in place (same folder mtime) is noticed and repaired too.
    const file = join(root, after.path, 'faceset.json');
    const json = await readJson(file);
    json.members = json.members.slice(1);
    await writeFile(file, JSON.stringify(json));
    await call('POST', '/output-roots/sync', { outputRoot: root });
    await expectFolderMatches(root, await detail(set.id));
  });

  it('9. bad labels and cursors answer 400 naming the field; adopted labels that are none are dropped', async () => {
    const { byName } = await copyRoot('labels', async (r) => {
      const file = join(r, 'faceset_003', 'faceset.json');
      const json = await readJson(file);
      json.label = 'Bad\u0000Name';
      json.note = 'x\u0000y\ud800';
      await writeFile(file, JSON.stringify(json));
    });
    const set = await detail(byName.get('faceset_003')!.id);
    expect(set.label).toBeNull();
    for (const [raw, why] of [
      ['{"label":"a\\u0000b"}', /NUL/],
      ['{"label":"a\\ud800b"}', /lone surrogate/],
      ['{"label":"bell\\u0007"}', /control characters \(U\+0007/],
      ['{"label":"evil\\u202egnp"}', /bidirectional control characters \(U\+202E/],
      ['{"label":"two\\nlines"}', /control characters/],
    ] as const) {
      const res = await call('PATCH', `/identities/${set.id}`, raw);
      expect(res.statusCode, raw).toBe(400);
      expect(res.json().message).toMatch(/^body\/label /);
      expect(res.json().message).toMatch(why);
    }
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const c of [cursor(['/x', 99_999_999_999]), cursor(['a\u0000', 1]), cursor(['a', -1]), cursor(['a', 1.5]), 'AAAA']) {
      const res = await call('GET', `/identities?cursor=${c}`);
      expect([res.statusCode, res.json().message], c).toEqual([400, 'querystring/cursor is not valid']);
    }
    // Shapes the old check let through to Postgres (a uuid of dashes, a date it cannot cast).
    for (const c of ['2020-01-01T00:00:00.000Z|------------------------------------', '2020-13-45T00:00:00.000Z|00000000-0000-0000-0000-000000000000']) {
      const jobs = await call('GET', `/jobs?cursor=${Buffer.from(c).toString('base64url')}`);
      expect([jobs.statusCode, jobs.json().message], c).toEqual([400, 'querystring/cursor is not valid']);
    }
  });

  it('10. headers, refusals that tell nothing, disk-born rejections by local, no empty identity after a split', async () => {
    const page = await call('GET', '/ui/index.html');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    for (const url of ['/healthz', '/jobs', '/no-such-route']) expect((await call('GET', url)).headers['x-content-type-options'], url).toBe('nosniff');
    const bucket = (p: string) => call('POST', '/jobs', { bucket: p, outputRoot: base });
    const [exists, missing, file] = await Promise.all([bucket(outside), bucket(join(outside, 'nothing-here')), bucket(join(outside, 'victim.png'))]);
    for (const [r, p] of [[exists, outside], [missing, join(outside, 'nothing-here')], [file, join(outside, 'victim.png')]] as const) {
      expect([r.statusCode, r.json().message]).toEqual([400, `body/bucket must lie under an allowed root (BUCKET_ROOTS): ${p}`]);
    }

    const { root, byName } = await copyRoot('local-actor');
    const withToken = await buildApp({ config: { ...env.config, apiToken: 'sekrit-token' } });
    try {
      const set = await detail(byName.get('faceset_002')!.id);
      await rm(join(root, set.path, set.faces[0]!.png));
      const auth = { authorization: 'Bearer sekrit-token' };
      const sync = await withToken.inject({ method: 'POST', url: '/output-roots/sync', payload: { outputRoot: root }, headers: auth });
      expect(sync.json().rejected).toHaveLength(1);
      const history = (await withToken.inject({ method: 'GET', url: `/identities/${set.id}/history`, headers: auth })).json().items;
      expect(history[0]).toMatchObject({ kind: 'reject', actor: 'local' });
    } finally {
      await withToken.close();
    }

    const whole = await detail(byName.get('faceset_001')!.id);
    const all = await call('POST', `/identities/${whole.id}/split`, { faceIds: whole.faces.map((f) => f.id) });
    expect(all.statusCode).toBe(400);
    expect(all.json().message).toMatch(/^body\/faceIds names every face of faceset_001/);
    expect((await detail(whole.id)).faces).toHaveLength(whole.faces.length);
  });
});
