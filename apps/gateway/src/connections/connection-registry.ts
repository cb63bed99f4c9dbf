import type { Connection } from './connection.ts';
import { ExpiryQueue } from './expiry-queue.ts';

/**
 * Every open socket of this gateway, by token (`jti`): a logout closes the sockets of one token,
 * the heartbeat and drain visit them all, and one timer closes each when its token expires.
 * Nearly every token has one socket here, so a token maps to that connection itself, and to a Set
 * only while it has several (a Set per token costs about 130 bytes).
 */
export class ConnectionRegistry {
  private readonly byJti = new Map<string, Connection | Set<Connection>>();
  private readonly expiry: ExpiryQueue<Connection>;
  private count = 0;

  /** `onExpired` is called once for a connection whose token expired; it is still registered. */
  constructor(onExpired: (connection: Connection) => void) {
    this.expiry = new ExpiryQueue({ onExpired });
  }

  get size(): number {
    return this.count;
  }

  add(connection: Connection): void {
    const { jti } = connection;
    const existing = this.byJti.get(jti);
    if (existing === undefined) this.byJti.set(jti, connection);
    else if (existing === connection) return;
    else if (existing instanceof Set) {
      if (existing.has(connection)) return;
      existing.add(connection);
    } else this.byJti.set(jti, new Set([existing, connection]));
    this.count += 1;
    this.expiry.add(connection);
  }

  /** Forgets the connection (it closed); nothing happens if it is not registered. */
  remove(connection: Connection): void {
    const { jti } = connection;
    const existing = this.byJti.get(jti);
    if (existing === connection) this.byJti.delete(jti);
    else if (existing instanceof Set && existing.delete(connection)) {
      if (existing.size === 1) this.byJti.set(jti, existing.values().next().value!);
    } else return;
    this.count -= 1;
    this.expiry.remove(connection);
  }

  /** The connections opened with this token (a copy: closing them while iterating is fine). */
  withJti(jti: string): Connection[] {
    const existing = this.byJti.get(jti);
    if (existing === undefined) return [];
    return existing instanceof Set ? [...existing] : [existing];
  }

  /** The tokens with an open socket here. */
  jtis(): IterableIterator<string> {
    return this.byJti.keys();
  }

  *all(): Generator<Connection> {
    for (const entry of this.byJti.values()) {
      if (entry instanceof Set) yield* entry;
      else yield entry;
    }
  }

  /** Shutdown: no more expiry closes. */
  stop(): void {
    this.expiry.stop();
  }
}
