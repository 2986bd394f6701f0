// Per-face quality gates of discovery (faceShort, blur, detScore), with drops attributed to the first failing gate.

export type GateName = 'minFaceShort' | 'minBlur' | 'minDetScore';

/** The order a face failing several gates is attributed in: size first, as small faces are the usual cause. */
export const GATE_ORDER: readonly GateName[] = ['minFaceShort', 'minBlur', 'minDetScore'];

export type QualityGates = Record<GateName, number>;

export interface Quality {
  faceShort: number;
  blur: number;
  detScore: number;
}

const measure: Record<GateName, (q: Quality) => number> = {
  minFaceShort: (q) => q.faceShort,
  minBlur: (q) => q.blur,
  minDetScore: (q) => q.detScore,
};

/** The first gate (in GATE_ORDER) the face fails, or null when it passes all; a gate passes at equality. */
export function failedGate(q: Quality, gates: Partial<QualityGates>): GateName | null {
  for (const g of GATE_ORDER) {
    const min = gates[g];
    if (min !== undefined && !(measure[g](q) >= min)) return g;
  }
  return null;
}

export interface GateResult<T> {
  kept: T[];
  dropped: Record<GateName, number>;
}

export function applyGates<T extends Quality>(faces: readonly T[], gates: Partial<QualityGates>): GateResult<T> {
  const dropped: Record<GateName, number> = { minFaceShort: 0, minBlur: 0, minDetScore: 0 };
  const kept: T[] = [];
  for (const f of faces) {
    const g = failedGate(f, gates);
    if (g) dropped[g]++;
    else kept.push(f);
  }
  return { kept, dropped };
}
