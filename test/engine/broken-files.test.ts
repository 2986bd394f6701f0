// Broken inputs become error results with reasons, in the engine and in `facesets embed`, never crashes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../packages/shared/src/config';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import { copyFixtures, createEngine } from './helpers';

const run = promisify(execFile);
let engine: FaceEngine;
let dir: string;
let cleanup: () => Promise<void>;
const broken: Record<string, RegExp> = {};

beforeAll(async () => {
  ({ dir, cleanup } = await copyFixtures());
  engine = await createEngine();
  const jpg = await readFile(join(dir, 'people/obama/obama4.jpg'));
  await writeFile(join(dir, 'zero.jpg'), Buffer.alloc(0));
  await writeFile(join(dir, 'truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 3)));
  await writeFile(join(dir, 'text.jpg'), 'this is not a photo\n');
  await writeFile(join(dir, 'random.png'), randomBytes(4096));
  await copyFile(join(dir, 'people/amy/amy1.png'), join(dir, 'png-named.jpg'));
  Object.assign(broken, {
    'zero.jpg': /^decode: empty file/,
    'truncated.jpg': /^decode: corrupt or unsupported jpeg/,
    'text.jpg': /^decode: not an image: the file holds text/,
    'random.png': /^decode: not an image: unrecognised format/,
  });
});

afterAll(async () => {
  await engine?.close();
  await cleanup?.();
});

/** Runs the CLI the way `npx facesets` does (its bin script), from the repo root. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(REPO_ROOT, 'packages/cli/bin/facesets.js'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ENGINE_WORKERS: '2', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('engine', () => {
  it('returns an error result with the reason for each broken file', async () => {
    for (const [name, reason] of Object.entries(broken)) {
      const r = await engine.processFile(join(dir, name));
      expect(r.ok, name).toBe(false);
      if (r.ok) continue;
      expect(r.error).toMatch(reason);
      expect(r.path).toBe(join(dir, name));
      expect(r.size).toBe((await readFile(join(dir, name))).length);
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const missing = await engine.processFile(join(dir, 'nope.jpg'));
    expect(missing).toMatchObject({ ok: false, error: expect.stringMatching(/^read: .*ENOENT/) });
  });

  it('decodes a file whose extension lies', async () => {
    const r = await engine.processFile(join(dir, 'png-named.jpg'));
    expect(r).toMatchObject({ ok: true, format: 'png' });
  });
});

describe('facesets embed', () => {
  it('prints one line per file in input order, errors included, and exits 0', async () => {
    const files = ['people/obama/obama4.jpg', ...Object.keys(broken), 'misc/white.png', 'people/amy/amy1.png'].map((f) => join(dir, f));
    const { code, stdout } = await cli(['embed', ...files, '--det-threshold', '0.6']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.path)).toEqual(files);
    const first = lines[0] as { sha256: string; width: number; height: number; faces: { box: number[]; kps: number[][]; detScore: number; faceShort: number; blur: number; embedding: number[] }[] };
    expect(first).toMatchObject({ width: 853, height: 480, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(first.faces).toHaveLength(1);
    const face = first.faces[0]!;
    expect(face.box).toHaveLength(4);
    expect(face.kps).toHaveLength(5);
    expect(face.embedding).toHaveLength(512);
    expect(face.detScore).toBeGreaterThanOrEqual(0.6);
    expect(Object.keys(face)).toEqual(['box', 'kps', 'detScore', 'faceShort', 'blur', 'pose', 'embedding']);
    Object.values(broken).forEach((reason, i) => {
      expect(Object.keys(lines[i + 1]!)).toEqual(['path', 'error']);
      expect(lines[i + 1]!.error).toMatch(reason);
    });
    expect(lines[5]).toMatchObject({ faces: [] });
    expect((lines[6] as { faces: unknown[] }).faces).toHaveLength(1);
  });

  it('exits 2 on usage errors', async () => {
    const none = await cli(['embed']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no files given/);
    const flag = await cli(['embed', '--bogus', join(dir, 'zero.jpg')]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option "--bogus"/);
    const threshold = await cli(['embed', '--det-threshold', 'high', join(dir, 'zero.jpg')]);
    expect(threshold.code).toBe(2);
  });

  it('exits 1 with one clear line when the engine cannot start', async () => {
    const r = await cli(['embed', join(dir, 'people/amy/amy1.png')], { MODEL_DIR: join(dir, 'misc') });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cannot start the face engine: model file .*fr_detect\.onnx is missing/);
  });
});
