// What an output root may hold: plain member names, real folders, regular files; links are never followed.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlainMemberName, memberPath, OutputRootRefusedError, readFileNoFollow, realDirState, realPathUnder, regularFiles } from './root-guard';

describe('isPlainMemberName', () => {
  it('accepts the names the service writes and plain names people give', () => {
    for (const n of ['IMG_0001_f0_ab12cd34.png', 'x.PNG', 'zoë 2.png', 'a..b.png']) expect(isPlainMemberName(n), n).toBe(true);
  });
  it('refuses anything that is a path, hidden, not PNG or not text', () => {
    for (const n of ['../x.png', '../../../x/y.png', 'a/b.png', 'a\\b.png', '/etc/x.png', '.png', '..', '.tmp-1-x.png', 'x.jpg', 'a\u0000.png', 'a\n.png', '', 'x'.repeat(252) + '.png']) {
      expect(isPlainMemberName(n), JSON.stringify(n)).toBe(false);
    }
    for (const n of [7, null, undefined, ['a.png'], { png: 'a.png' }]) expect(isPlainMemberName(n)).toBe(false);
  });
  it('memberPath joins plain names only', () => {
    expect(memberPath('/r/faceset_001', 'a.png')).toBe('/r/faceset_001/a.png');
    expect(() => memberPath('/r/faceset_001', '../a.png')).toThrow(OutputRootRefusedError);
  });
});

describe('folders, files and links', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'root-guard-'));
    await mkdir(join(dir, 'root', '_thin', 'faceset_002'), { recursive: true });
    await mkdir(join(dir, 'root', 'faceset_001'));
    await mkdir(join(dir, 'outside'));
    await writeFile(join(dir, 'outside', 'secret.png'), 'secret');
    await writeFile(join(dir, 'root', 'faceset_001', 'a.png'), 'a');
    await symlink(join(dir, 'outside', 'secret.png'), join(dir, 'root', 'faceset_001', 'b.png'));
    await symlink(join(dir, 'outside'), join(dir, 'root', 'faceset_003'));
    await writeFile(join(dir, 'root', 'faceset_004'), 'a file');
    await mkdir(join(dir, 'bucket'));
    await writeFile(join(dir, 'bucket', 'p.jpg'), 'p');
    await symlink(join(dir, 'outside', 'secret.png'), join(dir, 'bucket', 'leak.jpg'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('realDirState tells real folders from missing ones and refuses links and files', async () => {
    const root = join(dir, 'root');
    expect(await realDirState(root, 'faceset_001')).toBe('dir');
    expect(await realDirState(root, '_thin/faceset_002')).toBe('dir');
    expect(await realDirState(root, '_thin/faceset_009')).toBe('missing');
    await expect(realDirState(root, 'faceset_003')).rejects.toThrow(/faceset_003 is a symlink/);
    await expect(realDirState(root, 'faceset_004')).rejects.toThrow(/faceset_004 is not a folder/);
    await expect(realDirState(root, '../outside')).rejects.toThrow(OutputRootRefusedError);
  });

  it('reads regular files only, never through a link', async () => {
    expect((await readFileNoFollow(join(dir, 'root', 'faceset_001', 'a.png'))).toString()).toBe('a');
    await expect(readFileNoFollow(join(dir, 'root', 'faceset_001', 'b.png'))).rejects.toMatchObject({ code: 'ELOOP' });
    expect([...(await regularFiles(join(dir, 'root', 'faceset_001')))]).toEqual(['a.png']);
  });

  it('realPathUnder keeps sources inside the bucket roots, by where they lead', async () => {
    const roots = [join(dir, 'bucket')];
    expect(await realPathUnder(join(dir, 'bucket', 'p.jpg'), roots)).toBe(join(dir, 'bucket', 'p.jpg'));
    expect(await realPathUnder(join(dir, 'bucket', 'leak.jpg'), roots)).toBeNull();
    expect(await realPathUnder(join(dir, 'bucket', '..', 'outside', 'secret.png'), roots)).toBeNull();
    expect(await realPathUnder(join(dir, 'outside', 'secret.png'), roots)).toBeNull();
    expect(await realPathUnder('relative.jpg', roots)).toBeNull();
  });
});
