import { describe, expect, it } from 'vitest';
import { plotPoint, poseCoverage, poseCoverageText, poseDotsSvg } from './pose-coverage';

const pose = (yaw: number, pitch: number) => ({ yaw, pitch, roll: 0 });

describe('pose coverage', () => {
  it('counts faces by side: ±15° is frontal and level', () => {
    const c = poseCoverage([pose(0, 0), pose(15, -15), pose(-16, 20), pose(40, -30), null]);
    expect(c).toEqual({ yaw: { left: 1, frontal: 2, right: 1 }, pitch: { down: 1, level: 2, up: 1 }, unknown: 1 });
    expect(poseCoverageText(c)).toBe('yaw ← 1 · 2 · 1 →, pitch ↓ 1 · 2 · 1 ↑, 1 unmeasured');
  });
  it('plots yaw left to right and pitch up as up, ±60° to the frame, clamped beyond', () => {
    expect(plotPoint(pose(0, 0), 120)).toEqual([60, 60]);
    expect(plotPoint(pose(30, 30), 120)).toEqual([90, 30]);
    expect(plotPoint(pose(-90, -90), 120)).toEqual([0, 120]);
  });
  it('draws one dot per measured face', () => {
    expect(poseDotsSvg([pose(0, 0), null, pose(30, 30)], 120).match(/<circle/g)).toHaveLength(2);
  });
});
