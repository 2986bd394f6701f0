// Import jobs end to end through the API, queues, Postgres and in-process workers: hand-sorted folders with odd names
// become labelled identities; a wrong photo and a group photo's stranger stay out; a 2-photo folder is thin; EXIF
// dates from two decades give two date eras; a second import changes nothing; an import extends discovered people.
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosineDistance, centroid } from '@facesets/shared/clustering/vectors';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { IdentitiesRepository } from '@facesets/shared/db/identities.repository';
import type { ImportReport, JobReport } from '@facesets/shared/report/types';
import { closeSharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';

/** As in the discover tests: the fixture crops are small (faces ~80–160 px), so both size gates go down to 60 px. */
const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 256 };

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
/** Bucket-relative path → the person the file shows (for the group photo: the folder's person). */
const personOf = new Map<string, string>();
let bucket: string;

const readJson = async (p: string): Promise<any> => JSON.parse(await readFile(p, 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON

async function put(dest: string, fixture: string, person: string | null, exifDate?: string): Promise<void> {
  const file = join(bucket, dest);
  await mkdir(join(file, '..'), { recursive: true });
  if (exifDate) {
    // A copy stamped with a capture time, as a camera would write it.
    await sharp(join(FIXTURES_DIR, fixture)).withExif({ IFD0: { DateTime: exifDate }, IFD2: { DateTimeOriginal: exifDate } }).png().toFile(file);
  } else {
    await cp(join(FIXTURES_DIR, fixture), file);
  }
  if (person) personOf.set(dest, person);
}

const people = (who: string, n: number, ext = 'png') => Array.from({ length: n }, (_, i) => `people/${who}/${who}${i + 1}.${ext}`);

interface SetOnDisk {
  name: string;
  path: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- faceset.json as read
  pngs: string[];
  persons: string[];
}

/** Every face set of an output root with the people its members' sources show (by the bucket it came from). */
async function setsOf(root: string, buckets: string[]): Promise<SetOnDisk[]> {
  const out: SetOnDisk[] = [];
  for (const dir of ['', '_thin']) {
    const names = (await readdir(join(root, dir)).catch(() => [] as string[])).filter((n) => /^faceset_\d{3}$/.test(n));
    for (const name of names) {
      const path = dir ? `${dir}/${name}` : name;
      const json = await readJson(join(root, path, 'faceset.json'));
      const persons = new Set<string>();
      for (const m of json.members as { sources: string[] }[]) {
        for (const s of m.sources) {
          const b = buckets.find((x) => s.startsWith(`${x}/`));
          if (b) persons.add(personOf.get(relative(b, s)) ?? `?${relative(b, s)}`);
        }
      }
      const pngs = (await readdir(join(root, path))).filter((n) => n.endsWith('.png')).sort();
      out.push({ name, path, json, pngs, persons: [...persons].sort() });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function runJob(body: Record<string, unknown>): Promise<{ id: string; summary: Record<string, unknown>; report: JobReport }> {
  const id = await submit(app, body);
  const job = await waitForJob(app, id, { timeoutMs: 300_000 });
  expect(job.error).toBeNull();
  expect(job.state).toBe('completed');
  const report = (await app.inject({ method: 'GET', url: `/jobs/${id}/report` })).json<JobReport>();
  return { id, summary: job.summary!, report };
}

/** Snapshot of everything an import could change: every file's path and bytes (reports excluded). */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const rel of (await readdir(root, { recursive: true })).sort()) {
    if (rel.startsWith('_reports')) continue;
    const data = await readFile(join(root, rel)).catch(() => null); // folders
    if (data) out.set(rel, data.toString('base64'));
  }
  return out;
}

beforeAll(async () => {
  env = await createTestEnv();
  app = await startApi(env);
  workers = await startWorkers(env);
  bucket = join(env.bucketsDir, 'hand-sorted');
  for (const f of people('amy', 5)) await put(`Anna Keller/${f.split('/').pop()}`, f, 'amy');
  await put('Anna Keller/wrong.png', 'people/raj/raj5.png', 'raj'); // filed in the wrong folder
  for (const f of people('howard', 5)) await put(`bob_2019 [alt]/${f.split('/').pop()}`, f, 'howard');
  for (const f of people('leonard', 5)) await put(`Émile Zola/sub folder/${f.split('/').pop()}`, f, 'leonard');
  for (const f of ['obama.jpg', 'obama2.jpg', 'obama4.jpg']) await put(`Frank & co/${f}`, `people/obama/${f}`, 'obama');
  await put('Frank & co/with biden.jpg', 'groups/obama_and_biden.jpg', 'obama'); // two people: obama is the folder's
  for (const f of ['john1.jpeg', 'john2.jpeg']) await put(`Kit H/${f}`, `people/kit_harington/${f}`, 'kit_harington');
  // One person photographed in two decades.
  const dates = ['1998:03:01 10:00:00', '1999:08:15 12:30:00', '2016:01:10 09:00:00', '2017:06:20 18:00:00', '2017:12:24 20:00:00'];
  for (const [i, f] of people('penny', 5).entries()) await put(`Penny (dated)/p${i + 1}.png`, f, 'penny', dates[i]);
  for (const f of people('bernadette', 5)) await put(`bernadette/${f.split('/').pop()}`, f, 'bernadette');
  await put('loose.jpg', 'people/biden/biden2.jpg', 'biden'); // in no folder
}, 120_000);

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('import jobs through the API', () => {
  let root: string;
  let first: Awaited<ReturnType<typeof runJob>>;
  let sets: SetOnDisk[];
  const byLabel = (label: string) => sets.find((s) => s.json.label === label && !s.json.parent)!;

  it('makes one identity per folder, labelled with the folder name and numbered in folder-name order', async () => {
    root = join(env.outputDir, 'fresh');
    await mkdir(root);
    first = await runJob({ bucket, outputRoot: root, mode: 'import', params: { ...PARAMS, eras: 'date' } });
    sets = await setsOf(root, [bucket]);
    const parents = sets.filter((s) => !s.json.parent);
    expect(parents.map((s) => [s.name, s.json.label, s.persons])).toEqual([
      ['faceset_001', 'Anna Keller', ['amy']],
      ['faceset_002', 'Frank & co', ['obama']],
      ['faceset_003', 'Kit H', ['kit_harington']],
      ['faceset_004', 'Penny (dated)', ['penny']],
      ['faceset_005', 'bernadette', ['bernadette']],
      ['faceset_006', 'bob_2019 [alt]', ['howard']],
      ['faceset_007', 'Émile Zola', ['leonard']],
    ]);
    for (const s of sets) expect(s.pngs).toEqual(s.json.members.map((m: { png: string }) => m.png).sort());
    const manifest = await readJson(join(root, 'manifest.json'));
    const entries = [...manifest.facesets, ...manifest.thin_eras];
    for (const s of parents) expect(entries.find((e: { name: string }) => e.name === s.name)).toMatchObject({ path: s.path, label: s.json.label, count: s.pngs.length });
    expect(first.summary).toMatchObject({ folders: 7, foldersCreated: 7, extended: [] });
    // The records agree: labelled identities whose members all came in as `imported`.
    const repo = new IdentitiesRepository(env.db);
    const records = (await repo.byRoot(root)).filter((i) => !i.parentId);
    expect(records.map((i) => [i.name, i.label, i.path])).toEqual(parents.map((s) => [s.name, s.json.label, s.path]));
    const members = await repo.members(records.map((i) => i.id));
    for (const i of records) {
      // Members are the PNGs plus the near-duplicate shots curation left out (Frank & co: obama4.jpg is obama.jpg again).
      const set = parents.find((s) => s.name === i.name)!;
      const left = new Set(((set.json.left ?? []) as { sha256: string; faceIndex: number }[]).map((l) => `${l.sha256}:${l.faceIndex}`));
      expect(members.get(i.id)!.filter((m) => !left.has(`${m.sha256}:${m.faceIndex}`)).map((m) => m.file).sort(), i.name).toEqual(set.pngs);
      expect(members.get(i.id)!.length, i.name).toBe(set.pngs.length + left.size);
      expect(new Set(members.get(i.id)!.map((m) => m.origin))).toEqual(new Set(['imported']));
    }
  });

  it('leaves the wrong photo out of every set and names it in the report with its distance', async () => {
    const wrong = join(bucket, 'Anna Keller/wrong.png');
    for (const s of sets) expect(s.json.members.flatMap((m: { sources: string[] }) => m.sources)).not.toContain(wrong);
    const anna = first.report.imports!.folders.find((f) => f.folder === 'Anna Keller')!;
    expect(anna).toMatchObject({ photos: 6, taken: 5, basis: 'single-face photos', action: 'created', name: 'faceset_001' });
    expect(anna.leftOut).toHaveLength(1);
    expect(anna.leftOut[0]).toMatchObject({ path: wrong, reason: 'disagrees', faces: 1 });
    expect(anna.leftOut[0]!.distance).toBeGreaterThan(0.55);
    const md = await readFile(join(root, '_reports', `${first.id}.md`), 'utf8');
    expect(md).toContain('## 4. Hand-sorted folders');
    expect(md).toMatch(/\| `Anna Keller` \| `[^`]*wrong\.png` \| disagrees with the folder: nearest of 1 face at \d\.\d{3} \|/);
    expect(first.report.imports!.skippedFiles).toEqual([join(bucket, 'loose.jpg')]);
    expect(md).toContain('loose.jpg');
  });

  it('takes the folder person from the two-person photo, not the other one', async () => {
    const frank = byLabel('Frank & co');
    const group = join(bucket, 'Frank & co/with biden.jpg');
    const member = frank.json.members.find((m: { sources: string[] }) => m.sources.includes(group));
    expect(member, 'the group photo contributes a face').toBeTruthy();
    // Independent evidence: the two faces of the group photo against obama's and biden's own portraits.
    const repo = new FacesRepository(env.db);
    const pack = (await env.db.query<{ model_pack: string }>('SELECT model_pack FROM sources LIMIT 1')).rows[0]!.model_pack;
    const groupFaces = await repo.facesOf([member.sha256], pack);
    expect(groupFaces.length).toBeGreaterThanOrEqual(2);
    const portraits = async (files: string[]) => {
      const shas = await Promise.all(files.map(async (f) => (await import('node:crypto')).createHash('sha256').update(await readFile(join(FIXTURES_DIR, f))).digest('hex')));
      return centroid((await repo.facesOf(shas, pack)).map((f) => f.embedding));
    };
    const obama = await portraits(['people/obama/obama.jpg', 'people/obama/obama2.jpg']);
    const chosen = groupFaces.find((f) => Math.abs(f.box[0] - member.box[0]) < 1)!;
    const nearestObama = [...groupFaces].sort((a, b) => cosineDistance(a.embedding, obama) - cosineDistance(b.embedding, obama))[0]!;
    expect(chosen.faceIndex).toBe(nearestObama.faceIndex);
    // The face taken is close to obama's own portraits, not merely the nearest of strangers.
    expect(cosineDistance(chosen.embedding, obama)).toBeLessThan(0.45);
    const frankRow = first.report.imports!.folders.find((f) => f.folder === 'Frank & co')!;
    expect(frankRow.leftOut).toEqual([]);
  });

  it('puts the 2-photo folder under _thin/ and into thin_eras', async () => {
    const kit = byLabel('Kit H');
    expect(kit.path).toBe('_thin/faceset_003');
    expect(kit.pngs).toHaveLength(2);
    const manifest = await readJson(join(root, 'manifest.json'));
    expect(manifest.thin_eras.map((e: { name: string }) => e.name)).toContain('faceset_003');
    expect(first.report.imports!.folders.find((f) => f.folder === 'Kit H')).toMatchObject({ thin: true, exported: 2 });
  });

  it('splits the dated person into exactly two date eras at the decade gap, each its own set with its parent', async () => {
    const split = first.report.eras!.find((e) => e.label === 'Penny (dated)')!;
    expect(split).toMatchObject({ parent: 'faceset_004', by: 'date', unplaced: 0 });
    expect(split.eras.map((e) => [e.from, e.to, e.faces])).toEqual([
      ['1998-03-01', '1999-08-15', 2],
      ['2016-01-10', '2017-12-24', 3],
    ]);
    const eraSets = sets.filter((s) => s.json.parent === 'faceset_004');
    expect(eraSets.map((s) => [s.json.era, s.persons, s.pngs.length])).toEqual([
      [{ by: 'date', from: '1998-03-01', to: '1999-08-15' }, ['penny'], 2],
      [{ by: 'date', from: '2016-01-10', to: '2017-12-24' }, ['penny'], 3],
    ]);
    // Both eras are under thinBelow (4) PNGs: _thin/ and thin_eras, as in the source document; the parent stays.
    const manifest = await readJson(join(root, 'manifest.json'));
    for (const s of eraSets) {
      expect(s.path).toBe(`_thin/${s.name}`);
      expect(manifest.thin_eras.find((e: { name: string }) => e.name === s.name)).toMatchObject({ parent: 'faceset_004', era: s.json.era });
    }
    expect(byLabel('Penny (dated)').pngs).toHaveLength(5);
    // Era records: their own identities with the parent's id and the span.
    const repo = new IdentitiesRepository(env.db);
    const all = await repo.byRoot(root);
    const parent = all.find((i) => i.name === 'faceset_004')!;
    expect(all.filter((i) => i.parentId === parent.id).map((i) => [i.name, i.era, i.thin])).toEqual(eraSets.map((s) => [s.name, s.json.era, true]));
    // Undated people are not split.
    expect(first.report.eras!.find((e) => e.label === 'bernadette')).toMatchObject({ eras: [], skipped: 'no era: no face is dated' });
  });

  it('the eras parameter splits the new identities of a discover job too', async () => {
    const dated = join(env.bucketsDir, 'dated-only');
    await cp(join(bucket, 'Penny (dated)'), dated, { recursive: true });
    const out = join(env.outputDir, 'dated');
    await mkdir(out);
    const job = await runJob({ bucket: dated, outputRoot: out, params: { ...PARAMS, eras: 'date' } });
    expect(job.summary.added).toEqual(['faceset_001', 'faceset_002', 'faceset_003']);
    expect(job.report.eras!.map((s) => [s.parent, s.eras.map((e) => [e.name, e.from, e.to, e.faces])])).toEqual([
      ['faceset_001', [['faceset_002', '1998-03-01', '1999-08-15', 2], ['faceset_003', '2016-01-10', '2017-12-24', 3]]],
    ]);
    const manifest = await readJson(join(out, 'manifest.json'));
    expect(manifest.thin_eras.map((e: { name: string; parent: string }) => [e.name, e.parent])).toEqual([
      ['faceset_002', 'faceset_001'],
      ['faceset_003', 'faceset_001'],
    ]);
  });

  it('a second import of the same bucket changes nothing', async () => {
    const before = await snapshot(root);
    const again = await runJob({ bucket, outputRoot: root, mode: 'import', params: { ...PARAMS, eras: 'date' } });
    expect(again.summary).toMatchObject({ added: [], extended: [], foldersCreated: 0, foldersExtended: 0, foldersUnchanged: 7 });
    expect(again.report.imports!.folders.map((f) => [f.folder, f.name])).toEqual(
      first.report.imports!.folders.map((f) => [f.folder, f.name]),
    );
    expect(await snapshot(root)).toEqual(before);
  });

  it('importAsNew over the same photos leaves every face with the identity that holds it', async () => {
    const before = await snapshot(root);
    const again = await runJob({ bucket, outputRoot: root, mode: 'import', params: { ...PARAMS, importAsNew: true } });
    expect(again.summary).toMatchObject({ added: [], foldersCreated: 0, foldersSkipped: 7 });
    expect(new Set(again.report.imports!.folders.map((f) => f.skipped))).toEqual(new Set(['every face is a member of another identity already']));
    expect(await snapshot(root)).toEqual(before);
  });

  it('routes a new face of a person with eras to the nearest era, and to the parent', async () => {
    const split = first.report.eras!.find((e) => e.label === 'Penny (dated)')!;
    const [old, recent] = split.eras.map((e) => sets.find((s) => s.name === e.name)!);
    const extra = join(env.bucketsDir, 'one-more');
    await mkdir(extra);
    // The 2017 photo again with other bytes: a new source whose face is the recent era's. Being the same shot, it
    // joins both as a member and is left out of both folders as a near-duplicate of p4 (issue 15).
    await writeFile(join(extra, 'p4 copy.png'), Buffer.concat([await readFile(join(bucket, 'Penny (dated)/p4.png')), Buffer.from('copy')]));
    const job = await runJob({ bucket: extra, outputRoot: root, mode: 'extend', params: PARAMS });
    expect([...(job.summary.extended as string[])].sort()).toEqual(['faceset_004', recent!.name].sort());
    const after = await setsOf(root, [bucket, extra]);
    const count = (name: string) => after.find((s) => s.name === name)!.pngs.length;
    expect([count('faceset_004'), count(old!.name), count(recent!.name)]).toEqual([5, 2, 3]);
    for (const name of ['faceset_004', recent!.name]) {
      const set = after.find((s) => s.name === name)!;
      const p4 = (set.json.members as { png: string; sources: string[] }[]).find((m) => m.sources.some((x) => x.endsWith('p4.png')))!.png;
      expect(set.json.left.map((l: { reason: string }) => l.reason), name).toEqual([`near-duplicate of ${p4}`]);
    }
    const repo = new IdentitiesRepository(env.db);
    const ids = (await repo.byRoot(root)).filter((i) => ['faceset_004', recent!.name].includes(i.name)).map((i) => i.id);
    const { rows } = await env.db.query(`SELECT encode(sha256, 'hex') AS sha FROM aliases WHERE path = $1`, [join(extra, 'p4 copy.png')]);
    for (const list of (await repo.members(ids)).values()) expect(list.map((m) => m.sha256)).toContain(rows[0].sha);
    const manifest = await readJson(join(root, 'manifest.json'));
    expect(manifest.thin_eras.find((e: { name: string }) => e.name === recent!.name)).toMatchObject({ count: 3, parent: 'faceset_004' });
  });

  it('importing into an output root that holds those people from a discover job extends them instead of duplicating', async () => {
    const out = join(env.outputDir, 'discovered');
    await mkdir(out);
    // Discover on 3 photos each of four of the people.
    const discoverBucket = join(env.bucketsDir, 'mixed');
    for (const who of ['amy', 'howard', 'leonard', 'bernadette']) {
      for (const f of people(who, 3)) {
        const dest = `${who}-${f.split('/').pop()}`;
        await cp(join(FIXTURES_DIR, f), join(discoverBucket, dest)).catch(async () => {
          await mkdir(discoverBucket, { recursive: true });
          await cp(join(FIXTURES_DIR, f), join(discoverBucket, dest));
        });
        personOf.set(dest, who);
      }
    }
    const discovered = await runJob({ bucket: discoverBucket, outputRoot: out, params: PARAMS });
    const before = await setsOf(out, [discoverBucket]);
    expect(before.map((s) => s.persons[0]).sort()).toEqual(['amy', 'bernadette', 'howard', 'leonard']);
    expect(discovered.summary.added).toHaveLength(4);

    const imported = await runJob({ bucket, outputRoot: out, mode: 'import', params: PARAMS });
    const rows = new Map((imported.report.imports as ImportReport).folders.map((f) => [f.folder, f]));
    const nameOf = (who: string) => before.find((s) => s.persons[0] === who)!.name;
    for (const [folder, who] of [['Anna Keller', 'amy'], ['bob_2019 [alt]', 'howard'], ['Émile Zola', 'leonard'], ['bernadette', 'bernadette']] as const) {
      expect(rows.get(folder), folder).toMatchObject({ action: 'extended', name: nameOf(who), exported: 2 });
      expect(rows.get(folder)!.matchDistance).toBeLessThan(0.45);
    }
    const after = await setsOf(out, [discoverBucket, bucket]);
    // No person has two identities; the extended sets got the folder name as their label.
    const parents = after.filter((s) => !s.json.parent);
    const persons = parents.map((s) => s.persons[0]);
    expect(new Set(persons).size).toBe(persons.length);
    expect(parents.find((s) => s.name === nameOf('amy'))!.json.label).toBe('Anna Keller');
    expect(parents.find((s) => s.name === nameOf('amy'))!.pngs).toHaveLength(5);
    // The other folders became new identities, numbered after the discovered ones.
    expect(imported.summary).toMatchObject({ foldersCreated: 3, foldersExtended: 4 });
    expect([...rows.values()].filter((f) => f.action === 'created').map((f) => f.name)).toEqual(['faceset_005', 'faceset_006', 'faceset_007']);
    const manifest = await readJson(join(out, 'manifest.json'));
    expect([...manifest.facesets, ...manifest.thin_eras].find((e: { name: string }) => e.name === nameOf('amy'))).toMatchObject({ label: 'Anna Keller', count: 5, path: nameOf('amy') });
    // The extended identity's records: the discovered members, and the two the folder added as imported.
    const repo = new IdentitiesRepository(env.db);
    const amy = (await repo.byRoot(out)).find((i) => i.name === nameOf('amy'))!;
    expect(amy.label).toBe('Anna Keller');
    const origins = (await repo.members([amy.id])).get(amy.id)!.map((m) => m.origin).sort();
    expect(origins).toEqual(['discovered', 'discovered', 'discovered', 'imported', 'imported']);
  });
});

describe('POST /identities/:id/eras', () => {
  let out: string;
  let ids: Map<string, { id: string; name: string }>;

  beforeAll(async () => {
    // An output root with the hand-sorted people, imported without an era split.
    out = join(env.outputDir, 'for-eras');
    await mkdir(out);
    await runJob({ bucket, outputRoot: out, mode: 'import', params: PARAMS });
    const list = (await app.inject({ method: 'GET', url: `/identities?outputRoot=${encodeURIComponent(out)}` })).json<{ items: { id: string; name: string; label: string }[] }>();
    ids = new Map(list.items.map((i) => [i.label, i]));
  }, 300_000);

  it('splits a dated identity into two date eras at the decade gap, the parent kept, thin eras in thin_eras', async () => {
    const penny = ids.get('Penny (dated)')!;
    // The root keeps the DeepFaceLab format: the era sets appear in it too.
    const formats = await app.inject({ method: 'PUT', url: '/output-roots/formats', payload: { outputRoot: out, formats: ['dfl'] } });
    expect(formats.statusCode, formats.body).toBe(200);
    const res = await app.inject({ method: 'POST', url: `/identities/${penny.id}/eras`, payload: { by: 'date' } });
    expect(res.statusCode).toBe(201);
    for (const e of res.json().eras as { name: string; count: number }[]) {
      expect((await readdir(join(out, '_formats', 'dfl', e.name))).filter((f) => f.endsWith('.jpg')), e.name).toHaveLength(e.count);
    }
    const body = res.json();
    expect(body.parent).toMatchObject({ id: penny.id, count: 5 });
    expect(body.eras.map((e: { era: unknown; count: number; parentId: string; thin: boolean }) => [e.era, e.count, e.parentId, e.thin])).toEqual([
      [{ by: 'date', from: '1998-03-01', to: '1999-08-15' }, 2, penny.id, true],
      [{ by: 'date', from: '2016-01-10', to: '2017-12-24' }, 3, penny.id, true],
    ]);
    const sets = await setsOf(out, [bucket]);
    for (const e of body.eras as { name: string; path: string }[]) {
      const set = sets.find((s) => s.name === e.name)!;
      expect(set.path).toBe(`_thin/${e.name}`);
      expect(set.persons).toEqual(['penny']);
      expect(set.json).toMatchObject({ parent: penny.name, label: 'Penny (dated)' });
    }
    expect(sets.find((s) => s.name === penny.name)!.pngs).toHaveLength(5);
    const manifest = await readJson(join(out, 'manifest.json'));
    expect(manifest.thin_eras.filter((e: { parent?: string }) => e.parent === penny.name).map((e: { name: string }) => e.name)).toEqual(body.eras.map((e: { name: string }) => e.name));
    // Once is enough: a second split is refused, and so is splitting an era.
    const again = await app.inject({ method: 'POST', url: `/identities/${penny.id}/eras`, payload: { by: 'date' } });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/already has eras/);
    const ofEra = await app.inject({ method: 'POST', url: `/identities/${body.eras[0].id}/eras`, payload: { by: 'appearance' } });
    expect(ofEra.statusCode).toBe(409);
  });

  it('answers 200 with the reason when an identity falls into fewer than two eras, 400 naming a bad field', async () => {
    const res = await app.inject({ method: 'POST', url: `/identities/${ids.get('bernadette')!.id}/eras`, payload: { by: 'date' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ eras: [], unplaced: 5, skipped: 'no era: no face is dated' });
    const bad = await app.inject({ method: 'POST', url: `/identities/${ids.get('bernadette')!.id}/eras`, payload: { by: 'decade' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^body\/by must be one of date, appearance, auto$/);
  });

  it('era sets take part in decisions: a label and a rejection change the era, not the parent', async () => {
    const penny = ids.get('Penny (dated)')!;
    const list = (await app.inject({ method: 'GET', url: `/identities?outputRoot=${encodeURIComponent(out)}` })).json<{ items: { id: string; name: string; parentId: string | null }[] }>();
    const era = list.items.find((i) => i.parentId === penny.id)!;
    const labelled = await app.inject({ method: 'PATCH', url: `/identities/${era.id}`, payload: { label: 'Penny, the 1990s' } });
    expect(labelled.statusCode).toBe(200);
    const detail = (await app.inject({ method: 'GET', url: `/identities/${era.id}` })).json<{ faces: { id: string; png: string }[] }>();
    const rejected = await app.inject({ method: 'POST', url: `/identities/${era.id}/reject`, payload: { faceIds: [detail.faces[0]!.id] } });
    expect(rejected.statusCode).toBe(200);
    const sets = await setsOf(out, [bucket]);
    const eraSet = sets.find((s) => s.name === era.name)!;
    expect(eraSet.json.label).toBe('Penny, the 1990s');
    expect(eraSet.pngs).toEqual(detail.faces.slice(1).map((f) => f.png).sort());
    expect(sets.find((s) => s.name === penny.name)!.pngs).toHaveLength(5);
    // Merging the other era back into the parent: the parent keeps each face once, the era's folder goes.
    const other = list.items.find((i) => i.parentId === penny.id && i.id !== era.id)!;
    const merged = await app.inject({ method: 'POST', url: `/identities/${penny.id}/merge`, payload: { from: [other.id] } });
    expect(merged.statusCode).toBe(200);
    expect(merged.json()).toMatchObject({ count: 5 });
    const after = await setsOf(out, [bucket]);
    expect(after.find((s) => s.name === penny.name)!.pngs).toHaveLength(5);
    expect(after.map((s) => s.name)).not.toContain(other.name);
  });
});
