import { describe, expect, it } from 'vitest';
import { applyGates, failedGate } from './gates';

const gates = { minFaceShort: 90, minBlur: 40, minDetScore: 0.6 };
const q = (faceShort: number, blur: number, detScore: number) => ({ faceShort, blur, detScore });

describe('gates', () => {
  it('passes at equality and names the first failing gate in the defined order', () => {
    expect(failedGate(q(90, 40, 0.6), gates)).toBeNull();
    expect(failedGate(q(89.9, 40, 0.6), gates)).toBe('minFaceShort');
    expect(failedGate(q(50, 10, 0.1), gates)).toBe('minFaceShort'); // fails all three: counted once, as size
    expect(failedGate(q(100, 10, 0.1), gates)).toBe('minBlur');
    expect(failedGate(q(100, 50, 0.59), gates)).toBe('minDetScore');
    expect(failedGate(q(Number.NaN, 50, 0.9), gates)).toBe('minFaceShort');
  });

  it('counts drops per gate and keeps the rest in order', () => {
    const faces = [q(120, 100, 0.9), q(40, 100, 0.9), q(120, 5, 0.9), q(30, 5, 0.2), q(120, 100, 0.5), q(95, 41, 0.61)];
    const r = applyGates(faces, gates);
    expect(r.kept).toEqual([faces[0], faces[5]]);
    expect(r.dropped).toEqual({ minFaceShort: 2, minBlur: 1, minDetScore: 1 });
  });

  it('applies only the gates it is given (the export gate is size alone)', () => {
    const r = applyGates([q(99, 0, 0), q(100, 0, 0)], { minFaceShort: 100 });
    expect(r.kept).toHaveLength(1);
    expect(r.dropped).toEqual({ minFaceShort: 1, minBlur: 0, minDetScore: 0 });
  });
});
