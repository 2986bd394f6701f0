// Faceset numbering: parse and format faceset_NNN names, and the next free number after everything already used.

const NAME = /^faceset_(\d+)$/;

export function facesetNumber(name: string): number | null {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** faceset_001 … faceset_999, then faceset_1000 and up: three digits at least, wider when needed. */
export function facesetName(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new Error(`facesetName: not a faceset number: ${n}`);
  return `faceset_${String(n).padStart(3, '0')}`;
}

/** One past the largest number among `names` (folder names, manifest names or paths); 1 when there is none. */
export function nextFacesetNumber(names: Iterable<string>): number {
  let max = 0;
  for (const name of names) {
    const base = name.split(/[\\/]/).filter(Boolean).pop() ?? '';
    const n = facesetNumber(base);
    if (n !== null && n > max) max = n;
  }
  return max + 1;
}
