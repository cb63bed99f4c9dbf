import { Redis } from 'ioredis';
import { createRedisBroker, type Broker } from '@im/bus';

export interface Published {
  channel: string;
  payload: string;
}

/**
 * Subscribes to bus channels over a real Redis, with the API's prefix, the way a gateway does, and
 * keeps what arrives so a test can wait for it.
 */
export class BusListener {
  readonly received: Published[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly broker: Broker,
    private readonly clients: Redis[],
  ) {}

  static async start(redisUrl: string, prefix: string): Promise<BusListener> {
    const pub = new Redis(redisUrl);
    const sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
    return new BusListener(createRedisBroker({ pub, sub, prefix }), [pub, sub]);
  }

  async listen(channel: string): Promise<void> {
    await this.broker.subscribe(channel, (payload) => {
      this.received.push({ channel, payload: payload.toString('utf8') });
      for (const wake of this.waiters) wake();
    });
  }

  /** The messages on `channel` so far, once there are at least `count` of them. */
  async waitFor(channel: string, count: number, timeoutMs = 5_000): Promise<Published[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const on = this.received.filter((message) => message.channel === channel);
      if (on.length >= count) return on;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${channel}: ${on.length} of ${count} messages within ${timeoutMs} ms; all: ${JSON.stringify(this.received)}`);
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
  }

  async close(): Promise<void> {
    await this.broker.close();
    for (const client of this.clients) client.disconnect();
  }
}
