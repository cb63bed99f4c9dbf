import { revocationChannel, type TokenRevocations } from '@im/auth';
import type { Broker } from '@im/bus';
import { CloseCode } from '@im/protocol';
import type { ConnectionRegistry } from '../connections/connection-registry.ts';

/** The revocations channel: the API publishes it with the prefix, the broker adds ours. */
const REVOCATIONS = revocationChannel('');

export interface RevocationWatchOptions {
  /** First wait before asking again about tokens whose check failed; doubles up to `maxRetryMs`. @default 500 */
  firstRetryMs?: number;
  /** @default 5000 */
  maxRetryMs?: number;
  /** Told about each recheck that could not be answered (it is retried). @default ignore */
  onError?: (err: unknown) => void;
}

/**
 * Logout on any API replica closes that token's sockets here (4001), at once.
 *
 * After Redis comes back, logouts published meanwhile were missed, so every open socket's token is
 * asked about again (`recheck`). A token whose check fails (Redis and MySQL both unreachable, or
 * failing again) keeps its sockets open and is asked again, with backoff, until an answer comes.
 * Fail-open on purpose: closing every socket whose check failed would turn a dependency blip into
 * a reconnect storm of every client, whose handshakes need the same dependencies and would fail
 * too, so the whole cluster would go dark instead of a logged-out token keeping its socket a few
 * seconds longer. A token's expiry still closes its sockets whatever happens (4002).
 */
export class RevocationWatch {
  private readonly firstRetryMs: number;
  private readonly maxRetryMs: number;
  /** Tokens whose last check failed, asked again when `retryTimer` fires. */
  private readonly unanswered = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    private readonly revocations: TokenRevocations,
    private readonly registry: ConnectionRegistry,
    private readonly options: RevocationWatchOptions = {},
  ) {
    this.firstRetryMs = options.firstRetryMs ?? 500;
    this.maxRetryMs = options.maxRetryMs ?? 5_000;
    this.retryMs = this.firstRetryMs;
  }

  start(): Promise<void> {
    this.stopped = false;
    return this.broker.subscribe(REVOCATIONS, this.onRevoked);
  }

  /** A logout published while our subscription was down was missed: ask about every open token. */
  async recheck(): Promise<void> {
    this.clearRetry();
    this.retryMs = this.firstRetryMs;
    await this.check(this.registry.jtis());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRetry();
    await this.broker.unsubscribe(REVOCATIONS, this.onRevoked).catch(() => {});
  }

  /** One pass at a time: a pass asked for while one runs waits for it, then runs with its own tokens. */
  private async check(jtis: Iterable<string>): Promise<void> {
    const pending = [...jtis];
    const previous = this.running;
    const pass = (async () => {
      await previous;
      for (const jti of pending) await this.checkOne(jti);
      if (this.unanswered.size > 0) this.scheduleRetry();
    })();
    this.running = pass;
    await pass;
    if (this.running === pass) this.running = undefined;
  }

  private async checkOne(jti: string): Promise<void> {
    // Its sockets closed meanwhile: nothing left to decide.
    if (this.registry.withJti(jti).length === 0) {
      this.unanswered.delete(jti);
      return;
    }
    try {
      const revoked = await this.revocations.isRevoked(jti);
      this.unanswered.delete(jti);
      if (revoked) this.closeToken(jti);
    } catch (err) {
      this.unanswered.add(jti);
      this.options.onError?.(err);
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.check([...this.unanswered]);
    }, wait);
    // Never what keeps a process alive.
    this.retryTimer.unref();
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private readonly onRevoked = (payload: Buffer): void => this.closeToken(payload.toString());

  private closeToken(jti: string): void {
    this.unanswered.delete(jti);
    for (const connection of this.registry.withJti(jti)) connection.close(CloseCode.TokenRevoked, 'logged out');
  }
}
