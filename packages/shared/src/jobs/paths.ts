// Validates bucket and output-root paths: absolute, existing directories whose real path lies under an allowed root.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

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
  if (roots.length === 0) {
    throw new PathValidationError(field, `cannot be accepted: no allowed roots are configured (set ${rootsVariable})`);
  }
  const realRoots: string[] = [];
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => null);
    if (realRoot) realRoots.push(realRoot);
  }
  // What a path outside every root is (missing, a file, a link) is never told: one message for all of them.
  const outside = new PathValidationError(field, `must lie under an allowed root (${rootsVariable}): ${value}`);
  const lexical = resolve(value);
  const writtenInside = roots.some((r) => isInside(resolve(r), lexical)) || realRoots.some((r) => isInside(r, lexical));
  let real: string;
  try {
    real = await realpath(value);
  } catch {
    throw writtenInside ? new PathValidationError(field, `does not exist: ${value}`) : outside;
  }
  // Judged by where it leads: a link inside a root that leads out is outside, one from outside that leads in is in.
  if (!realRoots.some((r) => isInside(r, real))) throw outside;
  const info = await stat(real);
  if (!info.isDirectory()) throw new PathValidationError(field, `is not a directory: ${value}`);
  return real;
}

/**
 * The first of `others` that `root` lies inside or around (both real paths), or null. An output root nested in
 * another would adopt the other's sets a second time, and the two would rewrite each other's folders.
 */
export function overlappingRoot(root: string, others: readonly string[]): string | null {
  return others.find((o) => o !== root && (isInside(o, root) || isInside(root, o))) ?? null;
}
