import type { MessageHandler } from '../src/broker.ts';

/** Records what a handler receives and lets a test wait for it instead of sleeping. */
export class Inbox {
  readonly payloads: Buffer[] = [];
  private waiters: Array<() => void> = [];

  readonly handler: MessageHandler = (payload) => {
    this.payloads.push(payload);
    for (const wake of this.waiters.splice(0)) wake();
  };

  get texts(): string[] {
    return this.payloads.map((payload) => payload.toString());
  }

  /** Resolves once `count` payloads arrived; rejects after `timeoutMs` with what did arrive. */
  async until(count: number, timeoutMs = 5_000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.payloads.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`expected ${count} payloads within ${timeoutMs} ms, got ${this.payloads.length}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.payloads;
  }
}

/** Resolves with the first value `subscribe` hands to its callback, or rejects after `timeoutMs`. */
export function nextEvent<T = void>(
  what: string,
  subscribe: (callback: (value: T) => void) => () => void,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      settled = true;
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    unsubscribe = subscribe((value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      queueMicrotask(() => unsubscribe());
      resolve(value);
    });
  });
}
