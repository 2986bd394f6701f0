// Label rules: printable one-line text only.
import { describe, expect, it } from 'vitest';
import { jsonbSafe } from '../db/jsonb';
import { labelFromFile, labelFromName, labelProblem } from './label';

describe('labelProblem', () => {
  it('accepts names in any script', () => {
    for (const l of ['Barack Obama', 'Zoë Saldaña', 'محمد', '王菲', 'O\'Brien-Smith (2019)', '👩‍🚀']) expect(labelProblem(l)).toBeNull();
  });
  it('names what is wrong', () => {
    expect(labelProblem('a\u0000b')).toBe('must not contain NUL characters');
    expect(labelProblem('a\ud800b')).toMatch(/lone surrogate/);
    expect(labelProblem('a\udc00')).toMatch(/lone surrogate/);
    expect(labelProblem('a\nb')).toBe('must not contain control characters (U+000A at 1)');
    expect(labelProblem('ab\u0085')).toBe('must not contain control characters (U+0085 at 2)');
    expect(labelProblem('x\u202egnp.exe')).toBe('must not contain bidirectional control characters (U+202E at 1)');
    expect(labelProblem('\u2066x')).toMatch(/U\+2066 at 0/);
  });
  it('makes printable labels of folder names', () => {
    expect(labelFromName('Ann\nSmith')).toBe('Ann Smith');
    expect(labelFromName('x\u202egnp.exe')).toBe('x gnp.exe');
    expect(labelFromName('  \t ')).toBeNull();
    expect(labelFromName('a\ud800')).toBe('a\ufffd');
    expect(labelFromName('Zoë')).toBe('Zoë');
    expect([...labelFromName('é'.repeat(300))!]).toHaveLength(200);
    for (const l of ['Ann\nSmith', 'x\u202egnp', 'a\u0007b']) expect(labelProblem(labelFromName(l)!)).toBeNull();
  });

  it('drops labels of files that are none', () => {
    expect(labelFromFile('  Ann ')).toBe('Ann');
    expect(labelFromFile('A\u0000')).toBeNull();
    expect(labelFromFile(7)).toBeNull();
    expect(labelFromFile('x'.repeat(201))).toBeNull();
  });
});

describe('jsonbSafe', () => {
  it('replaces NUL and lone surrogates in strings and keys, deeply', () => {
    expect(jsonbSafe({ 'k\u0000': ['a\u0000', { b: 'x\ud800' }, 3, null, true] })).toEqual({ 'k\ufffd': ['a\ufffd', { b: 'x\ufffd' }, 3, null, true] });
    expect(jsonbSafe('😀')).toBe('😀');
  });
});
