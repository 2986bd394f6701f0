// Formats through the real API, queues, workers and database: a job naming formats writes them, and a reject, a
// label, a merge and an undo are each followed by every format (read back with the tools' own rules); PUT
// /output-roots/formats removes and adds; GET /identities/:id/archive streams a zip Python's zipfile opens.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityDetail, IdentitySummary } from '@facesets/shared/identities/contracts';
import { closeLandmarks } from '@facesets/shared/formats/landmarks';
import { loraToken } from '@facesets/shared/formats/lora';
import { closeSharedEngine, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';
import { DFL_READ, FS_READ, FSA_READ, py } from './readers';

const PARAMS = { minFaces: 3, minFaceShort: 60, exportMinFaceShort: 60, exportSize: 128, loraSize: 96, formats: ['dfl', 'faceswap', 'lora', 'xmp'] };
const PEOPLE = ['amy', 'howard', 'penny'];

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;
let out: string;
let bucket: string;

async function list(): Promise<IdentitySummary[]> {
  const res = await app.inject({ method: 'GET', url: `/identities?outputRoot=${encodeURIComponent(out)}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: IdentitySummary[] }>().items.filter((i) => i.state === 'active');
}

async function detail(id: string): Promise<IdentityDetail> {
  const res = await app.inject({ method: 'GET', url: `/identities/${id}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<IdentityDetail>();
}

const visible = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => !n.startsWith('.'));
const files = async (dir: string, ext: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(ext)).sort();

/** Every enabled format says what the records say: per set its faces, per photo its regions and names. */
async function expectFormatsFollow(enabled: readonly string[] = PARAMS.formats, faceType = 'whole_face'): Promise<void> {
  const ids = await list();
  const details = await Promise.all(ids.map((i) => detail(i.id)));
  const f = join(out, '_formats');
  expect((await readdir(f).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort()).toEqual([...enabled].sort());
  if (enabled.includes('dfl')) {
    expect((await readdir(join(f, 'dfl'))).filter((n) => !n.startsWith('.')).sort()).toEqual(details.map((d) => d.name).sort());
    for (const d of details) {
      const jpgs = await files(join(f, 'dfl', d.name), '.jpg');
      expect(jpgs, d.name).toEqual(d.faces.map((x) => x.png.replace(/\.png$/, '.jpg')).sort());
      const { dict } = JSON.parse(py(DFL_READ, join(f, 'dfl', d.name, jpgs[0]!)));
      expect(dict.face_type).toBe(faceType);
      expect(d.faces.map((x) => x.sources[0]!.split('/').pop())).toContain(dict.source_filename);
    }
  }
  if (enabled.includes('faceswap')) {
    for (const d of details) {
      const pngs = await files(join(f, 'faceswap', d.name), '.png');
      expect(pngs, d.name).toHaveLength(d.faces.length);
      const fsa = JSON.parse(py(FSA_READ, join(f, 'faceswap', d.name, 'alignments.fsa')));
      expect(Object.keys(fsa.__data__).sort()).toEqual([...new Set(d.faces.map((x) => x.sources[0]!.split('/').pop()!))].sort());
      const meta = JSON.parse(py(FS_READ, join(f, 'faceswap', d.name, pngs[0]!)));
      expect(fsa.__data__[meta.source.source_filename].faces[meta.source.face_index].landmarks_xy).toEqual(meta.alignments.landmarks_xy);
    }
  }
  if (enabled.includes('lora')) {
    for (const d of details) {
      const token = loraToken(d.label, d.name);
      expect(await visible(join(f, 'lora', d.name))).toEqual([`10_${token} person`]);
      const sub = join(f, 'lora', d.name, `10_${token} person`);
      expect(await files(sub, '.png')).toHaveLength(d.faces.length);
      const caps = await files(sub, '.txt');
      expect(caps).toHaveLength(d.faces.length);
      // Token and class, then the pose words of the face (curation's head pose; lora.ts poseWords).
      for (const cap of caps) {
        expect(await readFile(join(sub, cap), 'utf8')).toMatch(new RegExp(`^${token} person, (frontal|three-quarter view, facing (left|right)|profile, facing (left|right))(, looking (up|down))?(, tilted head)?\\n$`));
      }
    }
  }
  if (enabled.includes('xmp')) {
    const want = new Map<string, string[]>();
    for (const d of details) for (const x of d.faces) {
      const rel = `people/${relative(bucket, x.sources[0]!)}.xmp`;
      want.set(rel, [...(want.get(rel) ?? []), d.label ?? d.name].sort());
    }
    const got = new Map<string, string[]>();
    const paths = [...want.keys()].map((r) => join(f, 'xmp', r));
    const read = JSON.parse(execFileSync('exiftool', ['-j', '-struct', '-XMP:RegionInfo', '-XMP:RegionInfoMP', ...paths], { encoding: 'utf8' }));
    for (const r of read) {
      const names = (r.RegionInfo?.RegionList ?? []).map((x: { Name: string }) => x.Name).sort();
      expect((r.RegionInfoMP?.Regions ?? []).map((x: { PersonDisplayName: string }) => x.PersonDisplayName).sort()).toEqual(names);
      got.set(relative(join(f, 'xmp'), r.SourceFile), names);
    }
    expect(got).toEqual(want);
    // no sidecar of a photo no identity holds a face of
    const all = execFileSync('find', [join(f, 'xmp'), '-name', '*.xmp'], { encoding: 'utf8' }).trim().split('\n').map((p) => relative(join(f, 'xmp'), p)).sort();
    expect(all).toEqual([...want.keys()].sort());
  }
}

async function call(method: 'POST' | 'PATCH', url: string, payload?: object) {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res;
}

beforeAll(async () => {
  env = await createTestEnv();
  app = await startApi(env);
  workers = await startWorkers(env);
  bucket = join(env.bucketsDir, 'people');
  for (const p of PEOPLE) await cp(join(FIXTURES_DIR, 'people', p), join(bucket, 'people', p), { recursive: true });
  out = join(env.outputDir, 'sets');
  await mkdir(out);
}, 60_000);

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await closeLandmarks();
  await env?.close();
});

describe('formats kept by an output root', () => {
  it('a job naming formats writes every one of them, and the root remembers them', async () => {
    const id = await submit(app, { bucket, outputRoot: out, params: PARAMS });
    expect((await waitForJob(app, id)).state).toBe('completed');
    expect(await list()).toHaveLength(3);
    await expectFormatsFollow();
    const { rows } = await env.db.query('SELECT formats, params FROM output_root_formats WHERE output_root = $1', [out]);
    expect(rows[0]).toMatchObject({ formats: ['dfl', 'faceswap', 'lora', 'xmp'], params: { faceSize: 128, loraSize: 96, dflFaceType: 'whole_face' } });
  }, 180_000);

  it('a reject, a label, a merge and an undo are each followed by every format', async () => {
    const [a, b] = await list();
    const da = await detail(a!.id);
    await call('POST', `/identities/${a!.id}/reject`, { faceIds: [da.faces.at(-1)!.id] });
    await expectFormatsFollow();
    expect(await files(join(out, '_formats/dfl', a!.name), '.jpg')).toHaveLength(da.faces.length - 1);

    await call('PATCH', `/identities/${a!.id}`, { label: 'Zoë Ünïcode' });
    await expectFormatsFollow();
    expect(await visible(join(out, '_formats/lora', a!.name))).toEqual(['10_zoe_unicode person']);

    // a merge moves the files: the same inode lands in the other set's folder, nothing is rendered again
    const moved = (await files(join(out, '_formats/dfl', b!.name), '.jpg'))[0]!;
    const ino = (await stat(join(out, '_formats/dfl', b!.name, moved))).ino;
    await call('POST', `/identities/${a!.id}/merge`, { from: [b!.id] });
    await expectFormatsFollow();
    expect(await readdir(join(out, '_formats/dfl'))).not.toContain(b!.name);
    expect((await stat(join(out, '_formats/dfl', a!.name, moved))).ino).toBe(ino);

    await call('POST', `/identities/${a!.id}/undo`);
    await expectFormatsFollow();
    expect(await readdir(join(out, '_formats/dfl'))).toContain(b!.name);
  }, 240_000);

  it('PUT /output-roots/formats removes what is disabled and writes what is enabled; a later job keeps them', async () => {
    const res = await app.inject({ method: 'PUT', url: '/output-roots/formats', payload: { outputRoot: out, formats: ['dfl', 'xmp'], params: { dflFaceType: 'full_face' } } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ formats: ['dfl', 'xmp'], removed: ['faceswap', 'lora'], written: ['dfl', 'xmp'], params: { dflFaceType: 'full_face' } });
    await expectFormatsFollow(['dfl', 'xmp'], 'full_face');
    const [a] = await list();
    const jpg = (await files(join(out, '_formats/dfl', a!.name), '.jpg'))[0]!;
    expect(JSON.parse(py(DFL_READ, join(out, '_formats/dfl', a!.name, jpg))).dict.face_type).toBe('full_face');
    const bad = await app.inject({ method: 'PUT', url: '/output-roots/formats', payload: { outputRoot: out, formats: ['gif'] } });
    expect(bad.statusCode).toBe(400);
    // an extend job naming no formats keeps the root's
    const id = await submit(app, { bucket, outputRoot: out, mode: 'extend', params: { ...PARAMS, formats: undefined } });
    expect((await waitForJob(app, id)).state).toBe('completed');
    await expectFormatsFollow(['dfl', 'xmp'], 'full_face');
  }, 180_000);

  it('GET /identities/:id/archive streams a zip of the set or of a format; a format the root does not keep is a 404', async () => {
    const [a] = await list();
    const d = await detail(a!.id);
    const zipOf = async (format: string) => {
      const res = await app.inject({ method: 'GET', url: `/identities/${a!.id}/archive?format=${format}` });
      return res;
    };
    const dfl = await zipOf('dfl');
    expect([dfl.statusCode, dfl.headers['content-type']]).toEqual([200, 'application/zip']);
    const zipFile = join(env.outputDir, 'a.zip');
    await writeFile(zipFile, dfl.rawPayload);
    const names = JSON.parse(py('import zipfile,sys,json; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps(z.namelist()))', zipFile));
    expect(names.sort()).toEqual(d.faces.map((x) => `${d.name}/${x.png.replace(/\.png$/, '.jpg')}`).sort());
    const sets = await zipOf('facesets');
    expect(sets.statusCode).toBe(200);
    await writeFile(zipFile, sets.rawPayload);
    const setNames = JSON.parse(py('import zipfile,sys,json; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps(z.namelist()))', zipFile));
    expect(setNames).toContain(`${d.name}/faceset.json`);
    expect(setNames.filter((n: string) => n.endsWith('.png'))).toHaveLength(d.faces.length);
    expect((await zipOf('lora')).statusCode).toBe(404);
    expect((await zipOf('xmp')).statusCode).toBe(400);
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/output-roots/formats', '/identities/{id}/archive']));
  }, 120_000);
});
