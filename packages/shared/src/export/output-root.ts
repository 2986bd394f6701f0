// What an output root already holds: its face set folders (top level and _thin/) and their member lists.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ATOMIC_TEMP_PREFIX } from './atomic-write';
import type { MemberKey } from '../coverage/coverage';
import { FACESET_FILE, memberKeys } from './faceset-file';
import { facesetNumber } from './numbering';

export const THIN_DIR = '_thin';
/** Every temp folder or file this service makes inside an output root starts with this. */
export const TEMP_PREFIX = '.tmp-';

export interface ExistingFaceset {
  name: string;
  number: number;
  /** Relative to the output root. */
  path: string;
  thin: boolean;
  /** Parsed faceset.json, or null when it is missing or unreadable (the set still holds its number). */
  json: Record<string, unknown> | null;
  keys: MemberKey[];
  /** Members listed without a usable (sha256, box). */
  unusable: number;
  problem?: string;
}

async function dirNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot list ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

async function readFaceset(root: string, path: string): Promise<Pick<ExistingFaceset, 'json' | 'keys' | 'unusable' | 'problem'>> {
  const file = join(root, path, FACESET_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { json: null, keys: [], unusable: 0, problem: missing ? `no ${FACESET_FILE}` : (err as Error).message };
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return { json: json as Record<string, unknown>, ...memberKeys(json) };
  } catch (err) {
    return { json: null, keys: [], unusable: 0, problem: `${FACESET_FILE} unreadable: ${(err as Error).message}` };
  }
}

/** Face set folders of the root, ordered by number (top level before _thin/ on equal numbers). */
export async function listFacesets(root: string): Promise<ExistingFaceset[]> {
  const found: ExistingFaceset[] = [];
  for (const thin of [false, true]) {
    const dir = thin ? join(root, THIN_DIR) : root;
    for (const name of await dirNames(dir)) {
      const number = facesetNumber(name);
      if (number === null) continue;
      const path = thin ? `${THIN_DIR}/${name}` : name;
      found.push({ name, number, path, thin, ...(await readFaceset(root, path)) });
    }
  }
  return found.sort((a, b) => a.number - b.number || Number(a.thin) - Number(b.thin));
}

/**
 * Removes what an interrupted run left in `dirs` (the root, _thin/, each face set folder): temp face set folders
 * and temp files of atomic writes. Only called under the output-root lock, when no other job can own one.
 */
export async function removeStaleTemps(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of entries) {
      if (!name.startsWith(TEMP_PREFIX) && !name.startsWith(ATOMIC_TEMP_PREFIX)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
