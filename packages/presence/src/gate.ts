/**
 * A readers-writer gate for async work. connect/disconnect run shared with each other; bulk
 * rewrites of this gateway's entries (repair, re-assert, stop) run alone, so the local mirror
 * they send to Redis matches what Redis has been told, with nothing in flight.
 * A waiting exclusive task holds back new shared ones, so it cannot starve.
 */
export class Gate {
  private shared = 0;
  private exclusive: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  async runShared<T>(task: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.shared++;
    try {
      return await task();
    } finally {
      this.shared--;
      if (this.shared === 0) this.drained?.();
    }
  }

  async runExclusive<T>(task: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let release = () => {};
    this.exclusive = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.shared > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = undefined;
      return await task();
    } finally {
      this.exclusive = undefined;
      release();
    }
  }
}
