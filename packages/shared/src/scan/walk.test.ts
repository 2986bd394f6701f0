// The bucket walk: stable order, extension filter, symlinks never followed, escaping ones counted.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topLevelFolder, walkBucket, type WalkEntry } from './walk';

let root: string;
let bucket: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'walk-test-'));
  bucket = join(root, 'bucket');
  await mkdir(join(bucket, 'b dir', '[Originaldateien]'), { recursive: true });
  await mkdir(join(root, 'outside'));
  await writeFile(join(bucket, 'Z.JPG'), '');
  await writeFile(join(bucket, 'a.png'), '');
  await writeFile(join(bucket, 'notes.txt'), '');
  await writeFile(join(bucket, 'b dir', '[Originaldateien]', 'ü.PSD'), '');
  await writeFile(join(bucket, 'b dir', 'x.tiff'), '');
  await writeFile(join(root, 'outside', 'o.jpg'), '');
  await symlink(join(root, 'outside', 'o.jpg'), join(bucket, 'escape.jpg'));
  await symlink(join(root, 'outside'), join(bucket, 'escape-dir'));
  await symlink(join(bucket, 'a.png'), join(bucket, 'same.png'));
  await symlink(bucket, join(bucket, 'b dir', 'loop'));
});

afterAll(() => rm(root, { recursive: true, force: true }));

it('yields images and skipped files in a stable order: a folder\'s files, then its sub-folders', async () => {
  const seen: WalkEntry[] = [];
  for await (const e of walkBucket(bucket)) seen.push(e);
  const rel = (p: string) => p.slice(bucket.length + 1);
  expect(seen.map((e) => [e.kind, rel(e.path), e.kind === 'image' ? e.ext : e.key])).toEqual([
    ['image', 'Z.JPG', '.jpg'],
    ['image', 'a.png', '.png'],
    ['skipped', 'escape-dir', '(symlink outside bucket)'],
    ['skipped', 'escape.jpg', '(symlink outside bucket)'],
    ['skipped', 'notes.txt', '.txt'],
    ['image', 'b dir/x.tiff', '.tiff'],
    ['image', 'b dir/[Originaldateien]/ü.PSD', '.psd'],
  ]);
});

it('names the top-level folder of a path, and none for a file in the bucket root', () => {
  expect(topLevelFolder('/b', '/b/Anna Keller/x.jpg')).toBe('Anna Keller');
  expect(topLevelFolder('/b', '/b/bob_2019 [alt]/2019/deep/y.png')).toBe('bob_2019 [alt]');
  expect(topLevelFolder('/b', '/b/loose.jpg')).toBeNull();
});

it('keys a top-level folder whose name is not UTF-8 by its own bytes, apart from a UTF-8 name that reads the same', () => {
  // caf<0xe9>/x.jpg (Latin-1 é): the stored path is bytes:/b/caf\xe9/x.jpg.
  expect(topLevelFolder('/b', 'bytes:/b/caf\\xe9/x.jpg')).toBe('bytes:caf\\xe9');
  expect(topLevelFolder('/b/', 'bytes:/b/caf\\xe9/deep/\\xff.jpg')).toBe('bytes:caf\\xe9');
  // A UTF-8 folder named `caf\xe9` (a real backslash) holding a non-UTF-8 file name.
  expect(topLevelFolder('/b', 'bytes:/b/caf\\\\xe9/\\xff.jpg')).toBe('caf\\xe9');
  expect(topLevelFolder('/b', 'bytes:/b/\\xff.jpg')).toBeNull();
  expect(topLevelFolder('/b', 'bytes:/other/caf\\xe9/x.jpg')).toBeNull();
});
