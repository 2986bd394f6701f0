// Path containment and allowed-directory resolution.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathValidationError, isInside, overlappingRoot, resolveAllowedDir } from './paths';

describe('isInside', () => {
  it('accepts the root itself and what lies below it', () => {
    expect(isInside('/data/b', '/data/b')).toBe(true);
    expect(isInside('/data/b', '/data/b/x/y')).toBe(true);
    expect(isInside('/data/b', '/data/b..x')).toBe(false);
  });
  it('refuses siblings with a shared prefix and parents', () => {
    expect(isInside('/data/b', '/data/bb')).toBe(false);
    expect(isInside('/data/b', '/data')).toBe(false);
    expect(isInside('/data/b', '/')).toBe(false);
  });
});

describe('resolveAllowedDir', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'paths-test-'));
    await mkdir(join(root, 'allowed', 'b'), { recursive: true });
    await mkdir(join(root, 'other'), { recursive: true });
    await writeFile(join(root, 'allowed', 'file'), '');
    await symlink(join(root, 'other'), join(root, 'allowed', 'out'));
    await symlink(join(root, 'allowed', 'b'), join(root, 'other', 'in'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const check = (p: string) => resolveAllowedDir('body/bucket', p, [join(root, 'allowed')], 'BUCKET_ROOTS');

  it('returns the real path of an allowed directory', async () => {
    expect(await check(join(root, 'allowed', 'b', '..', 'b'))).toBe(join(root, 'allowed', 'b'));
    // A link from outside that leads inside is judged by where it leads.
    expect(await check(join(root, 'other', 'in'))).toBe(join(root, 'allowed', 'b'));
  });

  it('names the field in every refusal', async () => {
    await expect(check('relative')).rejects.toThrow('body/bucket must be an absolute path');
    await expect(check(join(root, 'allowed', 'nope'))).rejects.toThrow(/^body\/bucket does not exist/);
    await expect(check(join(root, 'allowed', 'file'))).rejects.toThrow(/^body\/bucket is not a directory/);
    await expect(check(join(root, 'allowed', '..', 'other'))).rejects.toThrow(/must lie under an allowed root/);
    await expect(check(join(root, 'allowed', 'out'))).rejects.toThrow(PathValidationError);
  });
});

describe('refusals outside the roots', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'paths-outside-'));
    await mkdir(join(root, 'allowed'));
    await mkdir(join(root, 'elsewhere', 'dir'), { recursive: true });
    await writeFile(join(root, 'elsewhere', 'file'), '');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('say nothing of what exists there: one message for a folder, a file and nothing', async () => {
    const check = (p: string) => resolveAllowedDir('body/outputRoot', p, [join(root, 'allowed')], 'OUTPUT_ROOTS').catch((e: Error) => e.message);
    const messages = await Promise.all(['dir', 'file', 'nothing'].map((n) => check(join(root, 'elsewhere', n))));
    for (const [i, m] of messages.entries()) expect(m).toBe(`body/outputRoot must lie under an allowed root (OUTPUT_ROOTS): ${join(root, 'elsewhere', ['dir', 'file', 'nothing'][i]!)}`);
  });
});

describe('overlappingRoot', () => {
  it('finds a root inside or around another, not siblings with a shared prefix', () => {
    const known = ['/out/a', '/out/b'];
    expect(overlappingRoot('/out/a/_thin', known)).toBe('/out/a');
    expect(overlappingRoot('/out/a/faceset_001', known)).toBe('/out/a');
    expect(overlappingRoot('/out', known)).toBe('/out/a');
    expect(overlappingRoot('/out/a', known)).toBeNull();
    expect(overlappingRoot('/out/ab', known)).toBeNull();
  });
});
