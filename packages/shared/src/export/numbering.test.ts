import { describe, expect, it } from 'vitest';
import { facesetName, facesetNumber, nextFacesetNumber } from './numbering';

describe('numbering', () => {
  it('formats with three digits at least', () => {
    expect(facesetName(1)).toBe('faceset_001');
    expect(facesetName(20)).toBe('faceset_020');
    expect(facesetName(999)).toBe('faceset_999');
    expect(facesetName(1000)).toBe('faceset_1000');
    expect(facesetName(12345)).toBe('faceset_12345');
  });

  it('parses only faceset_<digits>', () => {
    expect(facesetNumber('faceset_007')).toBe(7);
    expect(facesetNumber('faceset_1000')).toBe(1000);
    expect(facesetNumber('faceset_7a')).toBeNull();
    expect(facesetNumber('.tmp-job-faceset_050')).toBeNull();
    expect(facesetNumber('faceset_')).toBeNull();
  });

  it('continues after the largest number used anywhere, gaps and _thin included', () => {
    expect(nextFacesetNumber([])).toBe(1);
    expect(nextFacesetNumber(['faceset_001', 'faceset_019', 'faceset_003'])).toBe(20); // gaps are not refilled
    expect(nextFacesetNumber(['faceset_002', '_thin/faceset_031', 'notes'])).toBe(32);
    // A name only the manifest knows (folder moved away) is still taken.
    expect(nextFacesetNumber(['faceset_002', 'faceset_040'])).toBe(41);
    expect(nextFacesetNumber(['faceset_999'])).toBe(1000);
    expect(nextFacesetNumber(['faceset_1000', 'faceset_999'])).toBe(1001);
  });
});
