import { Redis } from 'ioredis';
import type { ChatLoad } from './chat-load.ts';

const EVERY_MS = 250;

/** One answer (or non-answer) of a /readyz. `status` 0: no answer within the probe's 3 s. */
export interface ReadinessSample {
  name: string;
  at: number;
  status: number;
}

/** Polls each /readyz every 250 ms (one request in flight per target) and keeps every answer. */
export class ReadinessWatch {
  readonly samples: ReadinessSample[] = [];
  private timer?: NodeJS.Timeout;
  private busy = new Set<string>();

  constructor(private readonly targets: Array<{ name: string; url: string }>) {}

  start(): void {
    this.timer = setInterval(() => {
      for (const target of this.targets) void this.poll(target);
    }, EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The newest status of each target. */
  latest(): Map<string, number> {
    const latest = new Map<string, number>();
    for (const sample of this.samples) latest.set(sample.name, sample.status);
    return latest;
  }

  /** Whether every target has answered (or failed to) since `at`: the state shown is that recent. */
  freshSince(at: number): boolean {
    return this.targets.every((target) => this.samples.some((s) => s.name === target.name && s.at >= at));
  }

  allReady(): boolean {
    const latest = this.latest();
    return this.targets.every((target) => latest.get(target.name) === 200);
  }

  private async poll(target: { name: string; url: string }): Promise<void> {
    if (this.busy.has(target.name)) return;
    this.busy.add(target.name);
    let status: number;
    try {
      const response = await fetch(target.url, { signal: AbortSignal.timeout(3_000) });
      await response.body?.cancel();
      status = response.status;
    } catch {
      status = 0;
    } finally {
      this.busy.delete(target.name);
    }
    this.samples.push({ name: target.name, at: Date.now(), status });
  }
}

/**
 * Who Redis says is online in the group room, against who the load's clients know is connected:
 * a ghost is a user counted with more connections than the client holds (a dead gateway's socket
 * not reaped yet), a missing user one with an open socket that presence does not count.
 */
export interface PresenceSample {
  at: number;
  /** Redis did not answer. */
  unavailable: boolean;
  ghosts: number;
  missing: number;
}

export class PresenceWatch {
  readonly samples: PresenceSample[] = [];
  private readonly redis: Redis;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly load: ChatLoad,
  ) {
    this.redis = new Redis(redisUrl, { commandTimeout: 500, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 100, 500) });
    this.redis.on('error', () => {});
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.redis.disconnect();
  }

  /** The newest sample shows every connected client counted once and no one else. */
  clean(): boolean {
    const last = this.samples.at(-1);
    return last !== undefined && !last.unavailable && last.ghosts === 0 && last.missing === 0;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const counts = await this.redis.hgetall(`${this.prefix}{group}:users`);
      let ghosts = 0;
      let missing = 0;
      for (const client of this.load.clients) {
        const counted = Number(counts[client.user.userId] ?? 0);
        const held = (client.open ? 1 : 0) + (client.connecting ? 1 : 0);
        if (counted > held) ghosts += 1;
        if (client.open && counted === 0) missing += 1;
      }
      this.samples.push({ at: Date.now(), unavailable: false, ghosts, missing });
    } catch {
      this.samples.push({ at: Date.now(), unavailable: true, ghosts: 0, missing: 0 });
    } finally {
      this.busy = false;
    }
  }
}

/** One HTTP request of the probe: a signed-in read through the front door. */
export interface HttpSample {
  startedAt: number;
  endedAt: number;
  /** 0: no answer within 15 s. */
  status: number;
  code?: number;
}

/** Every 250 ms, a signed-in `GET /api/users` through the front door, whatever the ones before it do. */
export class HttpProbe {
  readonly samples: HttpSample[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.inFlight.size >= 60) return;
      const probe = this.probe();
      this.inFlight.add(probe);
      void probe.finally(() => this.inFlight.delete(probe));
    }, EVERY_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private async probe(): Promise<void> {
    const startedAt = Date.now();
    let status: number;
    let code: number | undefined;
    try {
      const response = await fetch(`${this.url}/api/users?limit=1`, {
        headers: { authorization: `bearer ${this.token}` },
        signal: AbortSignal.timeout(15_000),
      });
      status = response.status;
      code = ((await response.json()) as { code?: number }).code;
    } catch {
      status = 0;
    }
    this.samples.push({ startedAt, endedAt: Date.now(), status, code });
  }
}
