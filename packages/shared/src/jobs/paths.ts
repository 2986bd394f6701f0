// Validates bucket and output-root paths: absolute, existing directories whose real path lies under an allowed root.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';

export class PathValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'PathValidationError';
  }
}

/** True when `child` is `parent` or lies below it (both already real, absolute paths). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Returns the canonical real path of `value` when it is an absolute path to an existing directory inside one
 * of `roots` (compared by real path, so `..` and symlinks cannot lead out); else throws naming `field`.
 */
export async function resolveAllowedDir(
  field: string,
  value: string,
  roots: readonly string[],
  rootsVariable: string,
): Promise<string> {
  if (!isAbsolute(value)) throw new PathValidationError(field, 'must be an absolute path');
  if (value.includes('\0')) throw new PathValidationError(field, 'must not contain NUL bytes');
  let real: string;
  try {
    real = await realpath(value);
  } catch {
    throw new PathValidationError(field, `does not exist: ${value}`);
  }
  const info = await stat(real);
  if (!info.isDirectory()) throw new PathValidationError(field, `is not a directory: ${value}`);
  if (roots.length === 0) {
    throw new PathValidationError(field, `cannot be accepted: no allowed roots are configured (set ${rootsVariable})`);
  }
  for (const root of roots) {
    let realRoot: string;
    try {
      realRoot = await realpath(root);
    } catch {
      continue;
    }
    if (isInside(realRoot, real)) return real;
  }
  throw new PathValidationError(field, `must lie under an allowed root (${rootsVariable}): ${value}`);
}
