// Every format read back by the other tool's own rules: Python 3's pickle on DeepFaceLab's APP15 payload (parsed as
// DFLIMG/DFLJPG.py load_raw walks the JPEG), ast.literal_eval on faceswap's iTXt (as lib/image.py png_read_meta
// finds it), zlib + pickle on alignments.fsa, exiftool on the XMP sidecars (MWG and Microsoft regions).
import { execFileSync } from 'node:child_process';
import { DFL_READ, FS_HEAD_OFFSET_CV2, FS_READ, FSA_READ, py, pythonWithCv2 } from './readers';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine } from '../../packages/shared/src/engine/align';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import type { Point } from '../../packages/shared/src/engine/types';
import { dflTransformMat } from '../../packages/shared/src/formats/dfl';
import { faceswapLegacyUnitMat } from '../../packages/shared/src/formats/faceswap';
import { headOffset } from '../../packages/shared/src/formats/faceswap-pose';
import { insertApp15, MAX_SEGMENT_PAYLOAD } from '../../packages/shared/src/formats/jpeg-app15';
import { closeLandmarks, landmarks68Provider } from '../../packages/shared/src/formats/landmarks';
import { pickleDumps } from '../../packages/shared/src/formats/pickle';
import { PyTuple, pyFloat } from '../../packages/shared/src/formats/py-value';
import { DEFAULT_FORMAT_PARAMS, writeFormats, type FormatSet } from '../../packages/shared/src/formats/write-formats';
import { decodeImage } from '../../packages/shared/src/image/decode';
import { createLogger } from '../../packages/shared/src/logger';
import { bestFace, createEngine, MODEL_DIR } from '../engine/helpers';
import { FIXTURES_DIR } from '../support/fixtures';

const visible = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => !n.startsWith('.'));

let engine: FaceEngine;
let dir: string;
let bucket: string;
let out: string;
const log = createLogger('formats-test', 'silent');

/** One set of the given photos (their best face each), as the records would give it. */
async function setOf(name: string, label: string | null, photos: string[]): Promise<FormatSet> {
  const faces = [];
  for (const p of photos) {
    const f = bestFace(await engine.processFile(join(bucket, p)));
    faces.push({ sha256: `${p.replace(/[^a-z0-9]/gi, '').padEnd(16, '0')}`.slice(0, 16) + '0'.repeat(48), faceIndex: 0, box: f.box, kps: f.kps, paths: [join(bucket, p)] });
  }
  return { name, label, bucket, faces };
}

const deps = () => ({ decodeImage: (p: string) => decodeImage(p, { maxPixels: 1e8 }), landmarks68: landmarks68Provider(MODEL_DIR), log });

beforeAll(async () => {
  engine = await createEngine();
  dir = await mkdtemp(join(tmpdir(), 'facesets-formats-'));
  bucket = join(dir, 'bucket');
  out = join(dir, 'out');
  await mkdir(join(bucket, 'amy'), { recursive: true });
  await mkdir(out);
  for (const n of ['amy1.png', 'amy2.png', 'amy3.png']) await cp(join(FIXTURES_DIR, 'people', 'amy', n), join(bucket, 'amy', n));
  // The same photo stored turned a quarter each way, with EXIF orientation 6 and 8 saying how to show it.
  const upright = join(FIXTURES_DIR, 'people', 'amy', 'amy1.png');
  await sharp(upright).rotate(-90).jpeg().withMetadata({ orientation: 6 }).toFile(join(bucket, 'amy', 'turned6.jpg'));
  await sharp(upright).rotate(90).jpeg().withMetadata({ orientation: 8 }).toFile(join(bucket, 'amy', 'turned8.jpg'));
}, 120_000);

afterAll(async () => {
  await engine?.close();
  await closeLandmarks();
  await rm(dir, { recursive: true, force: true });
});

describe('pickle writer', () => {
  it('is read by Python 3 pickle.loads as the same plain values', () => {
    const v = { a: [1, -2, 2 ** 40, -(2 ** 40), pyFloat(3), 0.5], s: 'é"\n', t: new PyTuple([1, 2]), n: null, b: [true, false], big: Array.from({ length: 1500 }, (_, i) => i) };
    const got = py('import pickle,sys,json; d=pickle.loads(bytes.fromhex(sys.argv[1])); assert isinstance(d["a"][4], float) and isinstance(d["t"], tuple); print(json.dumps(d))', pickleDumps(v).toString('hex'));
    expect(JSON.parse(got)).toEqual({ a: [1, -2, 2 ** 40, -(2 ** 40), 3, 0.5], s: 'é"\n', t: [1, 2], n: null, b: [true, false], big: Array.from({ length: 1500 }, (_, i) => i) });
  });
});

describe('jpeg APP15', () => {
  it('refuses a payload over the 64 kB segment limit', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).jpeg().toBuffer();
    expect(() => insertApp15(jpeg, Buffer.alloc(MAX_SEGMENT_PAYLOAD + 1))).toThrow(/segment limit/);
    const ok = insertApp15(jpeg, Buffer.alloc(MAX_SEGMENT_PAYLOAD));
    expect(ok.readUInt16BE(ok.indexOf(Buffer.from([0xff, 0xef])) + 2)).toBe(0xffff);
  });
});

describe('formats written from records', () => {
  let sets: FormatSet[];
  beforeAll(async () => {
    sets = [await setOf('faceset_001', 'Amy Farrah Fowler', ['amy/amy1.png', 'amy/amy2.png', 'amy/turned6.jpg', 'amy/turned8.jpg']), await setOf('faceset_002', null, ['amy/amy3.png'])];
    const res = await writeFormats(out, ['dfl', 'faceswap', 'lora', 'xmp'], sets, { ...DEFAULT_FORMAT_PARAMS, faceSize: 256, loraSize: 256 }, deps());
    expect(res.failed).toEqual([]);
    expect(res.rendered).toMatchObject({ dfl: 5, faceswap: 5, lora: 5 });
  }, 120_000);

  it('dfl: one APP15 after the APPn segments, a pickled dict DeepFaceLab reads, the mat maps source landmarks onto landmarks', async () => {
    const files = (await readdir(join(out, '_formats/dfl/faceset_001'))).filter((n) => n.endsWith('.jpg')).sort();
    expect(files).toHaveLength(4);
    for (const f of files) {
      const { names, dict } = JSON.parse(py(DFL_READ, join(out, '_formats/dfl/faceset_001', f)));
      expect(names.filter((n: string) => n === 'APP15')).toHaveLength(1);
      // DFLJPG.dump inserts it right after the last APPn chunk (after SOI when there is none)
      const lastApp = Math.max(0, ...names.map((n: string, i: number) => (/^APP(?!15$)/.test(n) ? i : 0)));
      expect(names.indexOf('APP15')).toBe(lastApp + 1);
      expect(dict.face_type).toBe('whole_face');
      expect(dict.landmarks).toHaveLength(68);
      expect(dict.source_landmarks).toHaveLength(68);
      expect(dict.source_rect).toHaveLength(4);
      expect(dict.source_filename).toMatch(/^(amy\d|turned\d)\.(png|jpg)$/);
      const m = dict.image_to_face_mat as number[][];
      expect(m).toHaveLength(2);
      const mat = [...m[0]!, ...m[1]!] as [number, number, number, number, number, number];
      (dict.source_landmarks as Point[]).forEach((p, i) => {
        const q = applyAffine(mat, p);
        expect(Math.hypot(q[0] - dict.landmarks[i][0], q[1] - dict.landmarks[i][1])).toBeLessThan(1);
      });
      // the mat is get_transform_mat's for whole_face at the image's size
      const again = dflTransformMat(dict.source_landmarks, 256, 'whole_face');
      again.forEach((v, i) => expect(v).toBeCloseTo(mat[i]!, 6));
      const meta = await sharp(join(out, '_formats/dfl/faceset_001', f)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 256, 256]);
      // the eyes' landmarks land where the mean face puts them: the face is aligned, not just cropped
      expect(dict.landmarks[36][1]).toBeGreaterThan(256 * 0.25);
      expect(dict.landmarks[36][1]).toBeLessThan(256 * 0.6);
    }
  });

  it('faceswap: iTXt `faceswap` read by literal_eval, alignments.fsa by zlib + pickle, both agreeing', async () => {
    const folder = join(out, '_formats/faceswap/faceset_001');
    const pngs = (await readdir(folder)).filter((n) => n.endsWith('.png')).sort();
    expect(pngs).toEqual(['amy1_0.png', 'amy2_0.png', 'turned6_0.png', 'turned8_0.png']);
    const fsa = JSON.parse(py(FSA_READ, join(folder, 'alignments.fsa')));
    expect(fsa.__meta__).toEqual({ version: 2.4 });
    expect(Object.keys(fsa.__data__).sort()).toEqual(['amy1.png', 'amy2.png', 'turned6.jpg', 'turned8.jpg']);
    for (const png of pngs) {
      const meta = JSON.parse(py(FS_READ, join(folder, png)));
      expect(Object.keys(meta.alignments).sort()).toEqual(['h', 'identity', 'landmarks_xy', 'mask', 'w', 'x', 'y']);
      expect(meta.alignments.landmarks_xy).toHaveLength(68);
      expect(meta.source).toMatchObject({ alignments_version: 2.4, original_filename: png, face_index: 0, source_is_video: false });
      const frame = fsa.__data__[meta.source.source_filename];
      expect(frame.faces[0]).toMatchObject({ x: meta.alignments.x, y: meta.alignments.y, w: meta.alignments.w, h: meta.alignments.h, landmarks_xy: meta.alignments.landmarks_xy, thumb: null });
      const src = await sharp(join(bucket, 'amy', meta.source.source_filename)).rotate().toBuffer({ resolveWithObject: true });
      expect(meta.source.source_frame_dims).toEqual([src.info.height, src.info.width]);
    }
  });

  it.skipIf(!pythonWithCv2())('faceswap: the head offset of each face is the one OpenCV\'s solvePnP gives faceswap (where python3-opencv is installed)', async () => {
    const folder = join(out, '_formats/faceswap/faceset_001');
    const aligned: Point[][] = [];
    for (const png of (await readdir(folder)).filter((n) => n.endsWith('.png'))) {
      const lm = JSON.parse(py(FS_READ, join(folder, png))).alignments.landmarks_xy as Point[];
      const m = faceswapLegacyUnitMat(lm);
      aligned.push(lm.map((p) => applyAffine(m, p)));
    }
    const cv = JSON.parse(execFileSync(pythonWithCv2()!, ['-c', FS_HEAD_OFFSET_CV2], { input: JSON.stringify(aligned), encoding: 'utf8' })) as Point[];
    aligned.forEach((lms, i) => {
      const ours = headOffset(lms);
      // in pixels of a 512 px face (the offset is in the 0.375-of-the-side core square): far below one
      expect(Math.abs(ours[0] - cv[i]![0]) * 512).toBeLessThan(0.01);
      expect(Math.abs(ours[1] - cv[i]![1]) * 512).toBeLessThan(0.01);
    });
  });

  it('lora: <repeats>_<token> <class>/ with an image and a caption of the same stem each', async () => {
    const sub = await visible(join(out, '_formats/lora/faceset_001'));
    expect(sub).toEqual(['10_amy_farrah_fowler person']);
    const files = (await readdir(join(out, '_formats/lora/faceset_001', sub[0]!))).sort();
    const stems = files.filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4));
    expect(files.filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4))).toEqual(stems);
    expect(stems).toHaveLength(4);
    expect(await readFile(join(out, '_formats/lora/faceset_001', sub[0]!, `${stems[0]}.txt`), 'utf8')).toBe('amy_farrah_fowler person\n');
    expect((await sharp(join(out, '_formats/lora/faceset_001', sub[0]!, `${stems[0]}.png`)).metadata()).width).toBe(256);
    expect(await visible(join(out, '_formats/lora/faceset_002'))).toEqual(['10_faceset_002 person']);
  });

  it('xmp: exiftool reads MWG regions (centre, normalised) and MP regions (top-left), sized as the photo is shown', async () => {
    const xmpDir = join(out, '_formats/xmp/bucket/amy');
    expect((await readdir(xmpDir)).sort()).toEqual(['amy1.png.xmp', 'amy2.png.xmp', 'amy3.png.xmp', 'turned6.jpg.xmp', 'turned8.jpg.xmp']);
    const all = JSON.parse(execFileSync('exiftool', ['-j', '-struct', '-XMP:RegionInfo', '-XMP:RegionInfoMP', ...['amy1.png', 'turned6.jpg', 'turned8.jpg', 'amy3.png'].map((n) => join(xmpDir, `${n}.xmp`))], { encoding: 'utf8' }));
    const upright = await sharp(join(bucket, 'amy/amy1.png')).metadata();
    for (const [i, name] of ['amy1.png', 'turned6.jpg', 'turned8.jpg'].entries()) {
      const r = all[i].RegionInfo;
      // orientation 6 and 8: stored turned, shown upright: the displayed size is the upright photo's
      expect(r.AppliedToDimensions).toEqual({ W: upright.width, H: upright.height, Unit: 'pixel' });
      expect(r.RegionList).toHaveLength(1);
      const reg = r.RegionList[0];
      expect(reg).toMatchObject({ Type: 'Face', Name: 'Amy Farrah Fowler' });
      expect(reg.Area.Unit).toBe('normalized');
      const set = sets[0]!.faces.find((f) => f.paths[0]!.endsWith(name))!;
      const [x1, y1, x2, y2] = set.box;
      expect(reg.Area.X).toBeCloseTo((x1 + x2) / 2 / upright.width!, 4);
      expect(reg.Area.Y).toBeCloseTo((y1 + y2) / 2 / upright.height!, 4);
      expect(reg.Area.W).toBeCloseTo((x2 - x1) / upright.width!, 4);
      const mp = all[i].RegionInfoMP.Regions[0];
      expect(mp.PersonDisplayName).toBe('Amy Farrah Fowler');
      const [mx, my, mw, mh] = String(mp.Rectangle).split(',').map(Number);
      expect(mx).toBeCloseTo(x1 / upright.width!, 4);
      expect(my).toBeCloseTo(y1 / upright.height!, 4);
      expect(mw).toBeCloseTo(reg.Area.W, 4);
      expect(mh).toBeCloseTo(reg.Area.H, 4);
    }
    // The faces of the turned photos sit where the upright photo has its face (the boxes are in displayed pixels).
    expect(all[1].RegionInfo.RegionList[0].Area.X).toBeCloseTo(all[0].RegionInfo.RegionList[0].Area.X, 1);
    expect(all[2].RegionInfo.RegionList[0].Area.Y).toBeCloseTo(all[0].RegionInfo.RegionList[0].Area.Y, 1);
    expect(all[3].RegionInfo.RegionList[0].Name).toBe('faceset_002');
  });

  it('a second build reuses unchanged files, drops a left face, renames on a label, and removes a disabled format', async () => {
    const [a, b] = sets as [FormatSet, FormatSet];
    const next = [{ ...a, label: 'Amy', faces: a.faces.slice(1) }, b];
    const res = await writeFormats(out, ['dfl', 'faceswap', 'lora'], next, { ...DEFAULT_FORMAT_PARAMS, faceSize: 256, loraSize: 256 }, deps());
    expect(res.rendered).toMatchObject({ dfl: 0, faceswap: 0, lora: 0 });
    expect(res.reused).toMatchObject({ dfl: 4, faceswap: 4, lora: 4 });
    expect(res.removed).toEqual(['xmp']);
    expect((await readdir(join(out, '_formats'))).sort()).toEqual(['dfl', 'faceswap', 'lora']);
    expect((await readdir(join(out, '_formats/dfl/faceset_001'))).filter((n) => n.endsWith('.jpg'))).toHaveLength(3);
    expect(await visible(join(out, '_formats/lora/faceset_001'))).toEqual(['10_amy person']);
    const fsa = JSON.parse(py(FSA_READ, join(out, '_formats/faceswap/faceset_001/alignments.fsa')));
    expect(Object.keys(fsa.__data__).sort()).toEqual(['amy2.png', 'turned6.jpg', 'turned8.jpg']);
  }, 60_000);

  it('a link planted where a set folder goes is replaced, its target untouched; a decision rebuilds only what it touched', async () => {
    const elsewhere = join(dir, 'elsewhere-set');
    await mkdir(elsewhere);
    await rm(join(out, '_formats/dfl/faceset_002'), { recursive: true });
    await symlink(elsewhere, join(out, '_formats/dfl/faceset_002'));
    const params = { ...DEFAULT_FORMAT_PARAMS, faceSize: 256, loraSize: 256 };
    const res = await writeFormats(out, ['dfl'], sets, params, deps(), { touched: new Set(['faceset_001']) });
    expect(await readdir(elsewhere)).toEqual([]);
    expect((await lstat(join(out, '_formats/dfl/faceset_002'))).isDirectory()).toBe(true);
    expect(res.rendered.dfl).toBe(1 + 1); // the face faceset_001 got back, and faceset_002's folder that was a link
    expect(res.reused.dfl).toBe(3);
  }, 60_000);

  it('never follows a symlink planted where a format folder was', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await rm(join(out, '_formats/lora'), { recursive: true, force: true });
    await symlink(elsewhere, join(out, '_formats/lora'));
    await expect(writeFormats(out, ['lora'], sets, { ...DEFAULT_FORMAT_PARAMS, loraSize: 128 }, deps())).rejects.toThrow(/symlink/);
    expect(await readdir(elsewhere)).toEqual([]);
    await rm(join(out, '_formats/lora'));
  }, 60_000);
});
