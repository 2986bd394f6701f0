// Argument parsing of `facesets submit`.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli';
import { parseSubmitArgs } from './submit';

describe('parseSubmitArgs', () => {
  it('builds the request body', () => {
    const a = parseSubmitArgs(['/data/b', '--mode', 'scan', '--param', 'detThreshold=0.6', '--param=minFaces=4', '--force', '--watch']);
    expect(a).toEqual({
      body: { bucket: '/data/b', mode: 'scan', params: { detThreshold: 0.6, minFaces: 4 }, force: true },
      watch: true,
    });
  });

  it('resolves relative paths and accepts --flag=value', () => {
    const a = parseSubmitArgs(['b', '--output-root=/out']);
    expect(a.body.bucket).toBe(`${process.cwd()}/b`);
    expect(a.body.outputRoot).toBe('/out');
  });

  it('refuses bad usage', () => {
    expect(() => parseSubmitArgs([])).toThrow(UsageError);
    expect(() => parseSubmitArgs(['/a', '/b'])).toThrow(/exactly one bucket/);
    expect(() => parseSubmitArgs(['/a', '--mode', 'paint'])).toThrow(/--mode must be one of/);
    expect(() => parseSubmitArgs(['/a', '--param', 'x'])).toThrow(/key=value/);
    expect(parseSubmitArgs(['/a', '--param', 'formats=dfl, xmp']).body.params).toEqual({ formats: ['dfl', 'xmp'] });
    expect(() => parseSubmitArgs(['/a', '--output-root'])).toThrow(/needs a value/);
    expect(() => parseSubmitArgs(['/a', '--colour'])).toThrow(/unknown option/);
  });
});
