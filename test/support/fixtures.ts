// Where the read-only face fixtures live: ../shared/fixtures/faces beside the repo, or FIXTURES_DIR.
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '@facesets/shared/config';

export const FIXTURES_DIR = resolve(process.env.FIXTURES_DIR ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));
