// In-process gate of the embed stage: files run side by side, but a file suspected of crashing the process runs alone.

/**
 * A readers–writer gate: `shared` runs alongside other shared runs; `alone` waits for every run in flight to end and
 * keeps new ones out until it is done. Waiting `alone` runs go first, so a suspect file is never starved.
 */
export class FileGate {
  private running = 0;
  private soloRunning = false;
  private readonly waiting: { solo: boolean; start: () => void }[] = [];

  shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.enter(false, fn);
  }

  alone<T>(fn: () => Promise<T>): Promise<T> {
    return this.enter(true, fn);
  }

  private async enter<T>(solo: boolean, fn: () => Promise<T>): Promise<T> {
    if (!this.canStart(solo)) await new Promise<void>((start) => this.waiting.push({ solo, start }));
    else this.take(solo);
    try {
      return await fn();
    } finally {
      if (solo) this.soloRunning = false;
      else this.running -= 1;
      this.wake();
    }
  }

  private canStart(solo: boolean): boolean {
    if (this.soloRunning) return false;
    if (solo) return this.running === 0;
    return !this.waiting.some((w) => w.solo);
  }

  private take(solo: boolean): void {
    if (solo) this.soloRunning = true;
    else this.running += 1;
  }

  private wake(): void {
    while (this.waiting.length) {
      const next = this.waiting[0] as { solo: boolean; start: () => void };
      if (this.soloRunning || (next.solo && this.running > 0)) return;
      this.waiting.shift();
      this.take(next.solo);
      next.start();
      if (next.solo) return;
    }
  }
}
