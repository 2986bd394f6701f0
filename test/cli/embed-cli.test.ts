// `facesets embed` as a user runs it: 2,000 long paths on the command line, directories, --files-from, right results.
import { spawn } from 'node:child_process';
import { copyFile, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../packages/shared/src/config';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import { copyFixtures, cosineDistance, createEngine, expectOk } from '../engine/helpers';

interface Line {
  path: string;
  error?: string;
  width?: number;
  faces?: { box: number[]; detScore: number; embedding: number[]; pose?: { yaw: number; pitch: number; roll: number } }[];
}

let dir: string;
let cleanup: () => Promise<void>;
let engine: FaceEngine;

beforeAll(async () => {
  ({ dir, cleanup } = await copyFixtures());
  engine = await createEngine();
});

afterAll(async () => {
  await engine?.close();
  await cleanup?.();
});

/** Runs the CLI's bin script the way `npx facesets` does; `input` is written to its stdin. */
function cli(args: string[], input?: string): Promise<{ code: number | null; signal: string | null; lines: Line[]; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ENGINE_WORKERS: '2' };
  delete env.ORT_DISABLE_TELEMETRY; // the engine must protect itself, not rely on the caller's environment
  const child = spawn(process.execPath, [join(REPO_ROOT, 'packages/cli/bin/facesets.js'), ...args], { cwd: REPO_ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(input ?? '');
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr, lines: stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) })),
  );
}

/** The CLI's line for a photo agrees with the engine run in-process on it: same faces, same embeddings. */
async function expectSameAsEngine(line: Line, file: string): Promise<void> {
  const local = expectOk(await engine.processFile(file));
  expect(line.error).toBeUndefined();
  expect(line.faces).toHaveLength(local.faces.length);
  line.faces!.forEach((f, i) => {
    expect(cosineDistance(Float32Array.from(f.embedding), local.faces[i]!.embedding)).toBeLessThan(1e-5);
    expect(f.box[0]).toBeCloseTo(local.faces[i]!.box[0], 1);
    // The pose printed per face, rounded to 0.1°.
    expect(Math.abs(f.pose!.yaw - local.faces[i]!.pose!.yaw)).toBeLessThanOrEqual(0.051);
    expect(Math.abs(f.pose!.roll - local.faces[i]!.pose!.roll)).toBeLessThanOrEqual(0.051);
  });
}

describe('facesets embed', () => {
  it('survives 2,000 long paths on the command line and answers each in order', async () => {
    // 2,000 names of ~150 characters (~300 kB of argv; 14 kB used to kill it): tiny grey PNGs, three real photos.
    const long = join(dir, 'a folder with a rather long name for the photo library', 'of the family holidays in the summer of 2019', 'camera roll');
    await mkdir(long, { recursive: true });
    const tiny = join(dir, 'tiny.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).png().toFile(tiny);
    const real: Record<number, string> = { 0: 'people/obama/obama4.jpg', 1000: 'people/amy/amy1.png', 1999: 'groups/obama_and_biden.jpg' };
    const files: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const file = join(long, `IMG_${String(i).padStart(4, '0')}_from_the_camera_roll${real[i] ? real[i]!.slice(real[i]!.lastIndexOf('.')) : '.png'}`);
      await (real[i] ? copyFile(join(dir, real[i]!), file) : link(tiny, file));
      files.push(file);
    }
    const r = await cli(['embed', ...files]);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(r.lines.map((l) => l.path)).toEqual(files);
    for (const [i, line] of r.lines.entries()) {
      if (real[i]) await expectSameAsEngine(line, files[i]!);
      else expect(line).toMatchObject({ width: 32, faces: [] });
    }
    expect(r.lines[1999]!.faces!.length).toBeGreaterThanOrEqual(2); // obama and biden, at least
  });

  it('takes directories: their images, walked as a scan walks them (extension filter, order, no symlinks)', async () => {
    const album = join(dir, 'album');
    await mkdir(join(album, 'b-sub'), { recursive: true });
    await mkdir(join(album, 'a-sub'), { recursive: true });
    await copyFile(join(dir, 'people/obama/obama4.jpg'), join(album, 'z.JPG'));
    await copyFile(join(dir, 'people/amy/amy1.png'), join(album, 'b-sub', 'amy.png'));
    await copyFile(join(dir, 'misc/white.png'), join(album, 'a-sub', 'white.png'));
    await writeFile(join(album, 'notes.txt'), 'not a photo\n');
    await writeFile(join(album, 'a-sub', 'raw.cr2'), 'not one the scan takes\n');
    await symlink(join(album, 'z.JPG'), join(album, 'alias.jpg'));
    const r = await cli(['embed', album, join(dir, 'people/biden/biden.jpg')]);
    expect(r.code).toBe(0);
    // A folder's files first, then its sub-folders in name order; then the next argument.
    expect(r.lines.map((l) => l.path)).toEqual([
      join(album, 'z.JPG'),
      join(album, 'a-sub', 'white.png'),
      join(album, 'b-sub', 'amy.png'),
      join(dir, 'people/biden/biden.jpg'),
    ]);
    await expectSameAsEngine(r.lines[0]!, join(album, 'z.JPG'));
    expect(r.lines[1]!.faces).toEqual([]);
    await expectSameAsEngine(r.lines[2]!, join(album, 'b-sub', 'amy.png'));
  });

  it('reads paths from --files-from - (stdin) and from a file: blank lines skipped, CRLF taken, missing files answered', async () => {
    const list = [join(dir, 'people/amy/amy1.png'), '', `${join(dir, 'people/obama')}\r`, join(dir, 'missing.jpg')].join('\n');
    const expected = [join(dir, 'people/amy/amy1.png'), ...['obama.jpg', 'obama2.jpg', 'obama3.jpg', 'obama4.jpg'].map((f) => join(dir, 'people/obama', f)), join(dir, 'missing.jpg')];
    const fromStdin = await cli(['embed', '--files-from', '-'], `${list}\n`);
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.lines.map((l) => l.path)).toEqual(expected);
    await expectSameAsEngine(fromStdin.lines[4]!, expected[4]!);
    expect(fromStdin.lines[5]!.error).toMatch(/^read: .*ENOENT/);

    await writeFile(join(dir, 'list.txt'), list); // no final newline
    const fromFile = await cli(['embed', join(dir, 'people/biden/biden.jpg'), `--files-from=${join(dir, 'list.txt')}`]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.lines.map((l) => l.path)).toEqual([join(dir, 'people/biden/biden.jpg'), ...expected]);
    expect(fromFile.lines.slice(1)).toEqual(fromStdin.lines);
  });

  it('exits 2 when the --files-from file cannot be read, 0 with a note when nothing is an image', async () => {
    const missing = await cli(['embed', '--files-from', join(dir, 'no-such-list.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--files-from: cannot read .*no-such-list\.txt/);
    await mkdir(join(dir, 'no-photos'));
    await writeFile(join(dir, 'no-photos', 'readme.md'), '# nothing\n');
    const empty = await cli(['embed', join(dir, 'no-photos')]);
    expect(empty).toMatchObject({ code: 0, lines: [] });
    expect(empty.stderr).toMatch(/no image files found/);
  });
});
