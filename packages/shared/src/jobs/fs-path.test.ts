// Lossless paths: UTF-8 paths unchanged, other bytes round-trip through the stored form and show escaped.
import { expect, it } from 'vitest';
import { BYTES_PREFIX, displayPath, escapeBytes, fsPath, pathFromBytes } from './fs-path';

it('keeps UTF-8 paths as they are', () => {
  for (const p of ['/b/a.png', '/b/Ünïcødé & spaces/x.jpg', '/b/back\\slash.png', '/b/bytes:odd.png']) {
    expect(pathFromBytes(Buffer.from(p))).toBe(p);
    expect(fsPath(p)).toBe(p);
    expect(displayPath(p)).toBe(p);
  }
});

it('stores a non-UTF-8 path losslessly and shows its bad bytes as \\xHH', () => {
  const raw = Buffer.concat([Buffer.from('/b/bad'), Buffer.from([0xff]), Buffer.from('utf8\\é'), Buffer.from([0xc3]), Buffer.from('.png')]);
  const stored = pathFromBytes(raw);
  expect(stored).toBe(`${BYTES_PREFIX}/b/bad\\xffutf8\\\\é\\xc3.png`);
  expect(displayPath(stored)).toBe('/b/bad\\xffutf8\\\\é\\xc3.png');
  expect(Buffer.isBuffer(fsPath(stored))).toBe(true);
  expect((fsPath(stored) as Buffer).equals(raw)).toBe(true);
});

it('escapes overlong and surrogate encodings, which are not UTF-8', () => {
  expect(escapeBytes(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]))).toBe('\\xc0\\xaf\\xed\\xa0\\x80');
});
