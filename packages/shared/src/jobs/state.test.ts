// Job transitions and the progress figure.
import { describe, expect, it } from 'vitest';
import { allowedFrom, jobProgress } from './state';

describe('allowedFrom', () => {
  it('never leaves a terminal state', () => {
    for (const to of ['cancelled', 'failed', 'completed', 'scanning'] as const) {
      expect(allowedFrom(to)).not.toContain('completed');
      expect(allowedFrom(to)).not.toContain('cancelled');
    }
  });
});

describe('jobProgress', () => {
  it('weights scan 10 %, embed 80 %, finalise 10 %', () => {
    expect(jobProgress('queued', false, { found: 0, toEmbed: 0, embedded: 0 }).percent).toBe(0);
    const scanning = jobProgress('scanning', false, { found: 40, toEmbed: 0, embedded: 0 });
    expect(scanning.percent).toBe(0);
    expect(scanning.stages.scan).toEqual({ done: 40, total: null, state: 'running' });
    const half = jobProgress('embedding', true, { found: 100, toEmbed: 50, embedded: 25 });
    expect(half.percent).toBe(50);
    expect(half.stages.embed).toEqual({ done: 25, total: 50, state: 'running' });
    expect(jobProgress('embedding', true, { found: 10, toEmbed: 0, embedded: 0 }).percent).toBe(90);
    expect(jobProgress('completed', true, { found: 10, toEmbed: 4, embedded: 4 }).percent).toBe(100);
  });
});
