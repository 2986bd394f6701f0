// manifest.json of an output root: read it, append new entries without touching anything else, write it atomically.
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { readFileNoFollow } from './root-guard';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestEntry {
  name: string;
  /** Relative to the output root: faceset_NNN or _thin/faceset_NNN. */
  path: string;
  count: number;
  /** The bucket the set came from. */
  source: string;
  jobId: string;
  createdAt: string;
  /** Imported identities: the folder name. */
  label?: string;
  /** Eras: the parent identity and the era's span. */
  parent?: string;
  era?: { by: 'date' | 'appearance' | 'auto'; from: string | null; to: string | null };
}

/** Entries and keys are kept as parsed: other tools' fields survive a round trip. */
export interface Manifest {
  facesets: unknown[];
  thin_eras: unknown[];
  [key: string]: unknown;
}

export function emptyManifest(): Manifest {
  return { facesets: [], thin_eras: [] };
}

/** Parses a manifest; a missing list becomes [], anything that is not a manifest is refused (never overwritten). */
export function parseManifest(text: string, file = MANIFEST_FILE): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw Object.assign(new Error(`${file} is not valid JSON (${(err as Error).message}); fix or move it, it is never overwritten`), { path: file });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw Object.assign(new Error(`${file} is not a JSON object; fix or move it, it is never overwritten`), { path: file });
  }
  const m = json as Record<string, unknown>;
  for (const list of ['facesets', 'thin_eras'] as const) {
    if (m[list] !== undefined && !Array.isArray(m[list])) throw Object.assign(new Error(`${file}: "${list}" is not a list`), { path: file });
  }
  return { ...m, facesets: (m.facesets as unknown[]) ?? [], thin_eras: (m.thin_eras as unknown[]) ?? [] };
}

/** A new manifest with the entries appended; existing entries are the same objects, in the same order. */
export function appendEntries(m: Manifest, add: { facesets?: ManifestEntry[]; thin_eras?: ManifestEntry[] }): Manifest {
  return { ...m, facesets: [...m.facesets, ...(add.facesets ?? [])], thin_eras: [...m.thin_eras, ...(add.thin_eras ?? [])] };
}

/** Names used by the manifest's entries (name and path), for numbering. */
export function manifestNames(m: Manifest): string[] {
  const names: string[] = [];
  for (const e of [...m.facesets, ...m.thin_eras]) {
    const { name, path } = (e ?? {}) as { name?: unknown; path?: unknown };
    if (typeof name === 'string') names.push(name);
    if (typeof path === 'string') names.push(path);
  }
  return names;
}

/**
 * A new manifest whose entries named `name` (in either list) carry `count`; other keys of the entry stay.
 * Returns the manifest unchanged (same object) when no entry has that name.
 */
export function setEntryCount(m: Manifest, name: string, count: number): Manifest {
  return setEntryFields(m, name, { count });
}

/** Like setEntryCount for any fields (e.g. the label an import gives an unlabelled identity). */
export function setEntryFields(m: Manifest, name: string, fields: Record<string, unknown>): Manifest {
  let hit = false;
  const update = (list: unknown[]): unknown[] =>
    list.map((e) => {
      if (e && typeof e === 'object' && (e as { name?: unknown }).name === name) {
        hit = true;
        return { ...(e as object), ...fields };
      }
      return e;
    });
  const next = { ...m, facesets: update(m.facesets), thin_eras: update(m.thin_eras) };
  return hit ? next : m;
}

export async function readManifest(root: string): Promise<Manifest> {
  const file = join(root, MANIFEST_FILE);
  let text: string;
  try {
    // Never through a link: a manifest.json that points elsewhere is refused (ELOOP), not read.
    text = (await readFileNoFollow(file)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyManifest();
    throw Object.assign(new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err }), { path: file });
  }
  return parseManifest(text, file);
}

export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

export async function writeManifest(root: string, m: Manifest): Promise<void> {
  await writeFileAtomic(join(root, MANIFEST_FILE), serializeManifest(m));
}
