/** Records events as they come and lets a test wait for a condition on them, without sleeping. */
export class EventLog<T> {
  readonly events: T[] = [];
  private waiters = new Set<() => void>();

  readonly push = (event: T): void => {
    this.events.push(event);
    for (const wake of this.waiters) wake();
  };

  /** Resolves once `done(events)` holds; rejects after `timeoutMs` showing what arrived. */
  async until(what: string, done: (events: T[]) => boolean, timeoutMs = 5_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.events)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.events)}`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return this.events;
  }
}

/** Sorts events by room then user, so assertions do not depend on delivery order. */
export function byRoomAndUser<E extends { room: string; userId: string }>(events: E[]): E[] {
  return [...events].sort((a, b) => a.room.localeCompare(b.room) || a.userId.localeCompare(b.userId));
}
