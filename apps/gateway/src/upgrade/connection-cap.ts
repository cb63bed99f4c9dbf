import type { Duplex } from 'node:stream';
import { AppError, ErrorCode } from '@im/protocol';

/** What a refused client is told to wait before trying again (a slot frees when a socket closes). */
const RETRY_AFTER_SECONDS = 5;

/** Where the user id of the slot a socket holds is kept, so one shared listener can free it. */
const SLOT_OWNER = Symbol('connection-cap-owner');
type SlotSocket = Duplex & { [SLOT_OWNER]?: string };

/**
 * `gateway.max_connections_per_user`: sockets one user may hold on this gateway. The newest
 * handshake over the cap is refused (429 / 1007) and the user's open sockets are left alone, so a
 * runaway client cannot take over a user's working sessions, and no socket is closed under
 * anyone.
 *
 * Counted per gateway, not across the cluster: the count is exact and costs no round trip on the
 * handshake (a reconnect storm brings thousands at once), a crashed gateway leaves no stale count
 * behind, and what the cap protects is a gateway's memory and file descriptors. A user reaches at
 * most cap × gateways sockets in all.
 *
 * A slot is taken once every other check passed, in the same tick as the upgrade, so concurrent
 * handshakes of one user cannot all slip under the cap; it is freed when the TCP socket closes,
 * whatever closed it (the handshake failing included).
 */
export class ConnectionCap {
  private readonly held = new Map<string, number>();
  // One listener for every socket (`this` is the socket): a closure per socket costs ~100 bytes.
  private readonly release: (this: SlotSocket) => void;

  /** `max` 0: no limit. */
  constructor(private readonly max: number) {
    const held = this.held;
    this.release = function () {
      const userId = this[SLOT_OWNER];
      if (userId === undefined) return;
      this[SLOT_OWNER] = undefined;
      const count = (held.get(userId) ?? 1) - 1;
      if (count > 0) held.set(userId, count);
      else held.delete(userId);
    };
  }

  /** Takes a slot for `userId` until `socket` closes; throws the 429 to answer when none is left. */
  take(socket: Duplex, userId: string): void {
    if (this.max === 0) return;
    // Already gone (the client gave up during the checks): its 'close' has passed, and the upgrade
    // will not happen.
    if (socket.destroyed) return;
    const count = this.held.get(userId) ?? 0;
    if (count >= this.max) {
      throw new AppError(ErrorCode.TooManyRequests, 429, `同一用户最多同时保持 ${this.max} 个连接`, {
        retry_after_seconds: RETRY_AFTER_SECONDS,
        max_connections: this.max,
      });
    }
    this.held.set(userId, count + 1);
    (socket as SlotSocket)[SLOT_OWNER] = userId;
    socket.on('close', this.release);
  }
}
