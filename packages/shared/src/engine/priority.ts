// Lowers the CPU priority of a whole process, every thread of it, so background inference yields to the API.
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets the nice value of every thread the process has now (on Linux each thread has its own; threads created later
 * — inference workers, libuv and libvips pools — inherit it from their creator). Elsewhere, the process's.
 * Returns how many threads were changed; raising niceness needs no privilege, so failures are only counted out.
 */
export function lowerProcessPriority(nice: number): number {
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    setPriority(0, nice);
    return 1;
  }
  let changed = 0;
  for (const tid of tids) {
    try {
      setPriority(tid, nice);
      changed += 1;
    } catch {
      // a thread that just ended
    }
  }
  return changed;
}
