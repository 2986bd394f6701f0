// Where the read-only face fixtures live: ../shared/fixtures/faces beside the repo, or FIXTURES_DIR.
import { cp, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '@facesets/shared/config';

export const FIXTURES_DIR = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));

/** A bucket at `dest` holding the given fixture files at their fixture-relative paths (so labels.csv maps them back). */
export async function copyFixtures(dest: string, files: readonly string[]): Promise<string> {
  for (const rel of files) {
    await mkdir(join(dest, rel, '..'), { recursive: true });
    await cp(join(FIXTURES_DIR, rel), join(dest, rel));
  }
  return dest;
}
