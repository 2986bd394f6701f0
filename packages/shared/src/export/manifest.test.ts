import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEntries,
  manifestNames,
  parseManifest,
  readManifest,
  serializeManifest,
  setEntryCount,
  writeManifest,
  type ManifestEntry,
} from './manifest';

const entry = (name: string, count: number, thin = false): ManifestEntry => ({
  name,
  path: thin ? `_thin/${name}` : name,
  count,
  source: '/b',
  jobId: 'j1',
  createdAt: '2026-04-26T00:00:00.000Z',
});

const existing = {
  version: 3,
  note: { by: 'hand' },
  facesets: [{ name: 'faceset_001', dir: 'faceset_001', n: 40, era: '2019' }, 'odd entry'],
  thin_eras: [{ name: 'faceset_031', weird: [1, 2] }],
  extra_list: [1],
};

describe('manifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends to the right list and keeps every existing entry and unknown key as it was', () => {
    const m = parseManifest(JSON.stringify(existing));
    const next = appendEntries(m, { facesets: [entry('faceset_032', 9)], thin_eras: [entry('faceset_033', 2, true)] });
    const out = JSON.parse(serializeManifest(next));
    expect(out).toEqual({
      ...existing,
      facesets: [...existing.facesets, entry('faceset_032', 9)],
      thin_eras: [...existing.thin_eras, entry('faceset_033', 2, true)],
    });
    expect(Object.keys(out)).toEqual(Object.keys(existing)); // key order too
    expect(manifestNames(next)).toEqual(['faceset_001', 'faceset_032', 'faceset_032', 'faceset_031', 'faceset_033', '_thin/faceset_033']);
  });

  it('creates missing lists and refuses what is not a manifest', () => {
    expect(parseManifest('{"a":1}')).toEqual({ a: 1, facesets: [], thin_eras: [] });
    expect(() => parseManifest('{"facesets":')).toThrow(/not valid JSON/);
    expect(() => parseManifest('[1]')).toThrow(/not a JSON object/);
    expect(() => parseManifest('{"facesets":{}}')).toThrow(/"facesets" is not a list/);
  });

  it('updates the count of one named entry and nothing else', () => {
    const m = parseManifest(JSON.stringify(existing));
    const next = setEntryCount(m, 'faceset_031', 5);
    expect(next.thin_eras).toEqual([{ name: 'faceset_031', weird: [1, 2], count: 5 }]);
    expect(next.facesets).toEqual(existing.facesets);
    expect(setEntryCount(m, 'faceset_404', 1)).toBe(m);
  });

  it('reads a missing manifest as empty, writes atomically and leaves no temp file', async () => {
    expect(await readManifest(dir)).toEqual({ facesets: [], thin_eras: [] });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(existing));
    const m = appendEntries(await readManifest(dir), { facesets: [entry('faceset_032', 9)] });
    await writeManifest(dir, m);
    expect(await readdir(dir)).toEqual(['manifest.json']);
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')).facesets).toHaveLength(3);
  });
});
