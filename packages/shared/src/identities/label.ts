// What a human label may hold: printable text. It reaches faceset.json, the manifest, file formats and other tools.

/** Longest label, in characters (the API's schema, files and folder names alike). */
export const LABEL_MAX = 200;

/** Characters that reorder or hide text (bidirectional controls, as in "Trojan Source"): never in a label. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// C0, DEL and C1 controls (tab and newline included: a label is one line).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A UTF-16 surrogate without its pair: not a character; jsonb and UTF-8 cannot hold it. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const hex = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `label` cannot be a label (a phrase to follow the field name), or null when it can. */
export function labelProblem(label: string): string | null {
  if (label.includes('\0')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(label)) return 'must be well-formed Unicode (it holds a lone surrogate)';
  const control = CONTROL.exec(label);
  if (control) return `must not contain control characters (${hex(control[0])} at ${control.index})`;
  const bidi = BIDI.exec(label);
  if (bidi) return `must not contain bidirectional control characters (${hex(bidi[0])} at ${bidi.index})`;
  return null;
}

/**
 * A label made from a name we did not choose (a hand-sorted folder's name): control and bidirectional-control
 * characters become spaces, lone surrogates U+FFFD, runs of spaces one; at most LABEL_MAX characters. Null when empty.
 */
export function labelFromName(raw: string): string | null {
  const clean = raw
    .normalize('NFC')
    .replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd')
    .replace(new RegExp(`${CONTROL.source}|${BIDI.source}`, 'g'), ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = [...clean].slice(0, LABEL_MAX).join('').trim();
  return cut || null;
}

/** A label read from a file (an adopted faceset.json): kept when it is one, else dropped. */
export function labelFromFile(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const label = raw.trim();
  return label && label.length <= LABEL_MAX && labelProblem(label) === null ? label : null;
}
