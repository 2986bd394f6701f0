// Values shared by the pickle writer and the Python-literal writer: plain dict/list/tuple/str/int/float/bool/None.

/** A float that stays a float in Python even when its value is whole (1.0, not 1). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python tuple (DeepFaceLab's source_rect, faceswap's source_frame_dims). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export type PyValue = null | boolean | number | string | PyFloat | PyTuple | readonly PyValue[] | { readonly [key: string]: PyValue };

export const pyFloat = (v: number): PyFloat => new PyFloat(v);
export const pyFloats = (pts: readonly (readonly number[])[]): PyFloat[][] => pts.map((p) => p.map(pyFloat));

function finite(v: number): number {
  if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
  return v;
}

/** A Python literal of the value, as `str(dict)` writes one and `ast.literal_eval` reads it. */
export function pyLiteral(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    finite(v);
    return Number.isInteger(v) ? String(v) : floatText(v);
  }
  // JSON's string escapes (\" \\ \n \uXXXX) are valid in a Python str literal with the same meaning.
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof PyFloat) return floatText(finite(v.value));
  if (v instanceof PyTuple) return v.items.length === 1 ? `(${pyLiteral(v.items[0]!)},)` : `(${v.items.map(pyLiteral).join(', ')})`;
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  const obj = v as { readonly [key: string]: PyValue };
  return `{${Object.keys(obj).map((k) => `${JSON.stringify(k)}: ${pyLiteral(obj[k]!)}`).join(', ')}}`;
}

function floatText(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
