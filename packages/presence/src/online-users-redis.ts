import type { Cluster, Redis } from 'ioredis';
import type { OnlineUsers } from './presence.ts';
import { presenceKeys, userPresenceRoom } from './presence-keys.ts';
import { assertUserIds } from './validate.ts';

export interface RedisOnlineUsersOptions {
  /** Connected client for commands; it can be shared. */
  redis: Redis | Cluster;
  /** The gateways' presence prefix (the same `prefix` as `createRedisPresence`). */
  prefix: string;
  /** Longest an answer may take; after it the call rejects with `code: 'ETIMEDOUT'`. @default 2_000 */
  deadlineMs?: number;
}

/**
 * Reads user-level presence without being a gateway (no lease, no connections): what the API's
 * inbox shows as a peer's `online`. One HMGET per bucket the asked users fall in, sent together.
 */
export function createRedisOnlineUsers(options: RedisOnlineUsersOptions): OnlineUsers {
  const { redis, deadlineMs = 2_000 } = options;
  if (typeof redis?.hmget !== 'function') throw new TypeError('createRedisOnlineUsers: `redis` must be an ioredis client');
  if (typeof options.prefix !== 'string' || /[{}]/.test(options.prefix)) {
    throw new TypeError('createRedisOnlineUsers: `prefix` must be a string without { or }');
  }
  if (!Number.isInteger(deadlineMs) || deadlineMs <= 0) throw new RangeError(`createRedisOnlineUsers: deadlineMs must be a positive integer, got ${deadlineMs}`);
  const keys = presenceKeys(options.prefix);

  return {
    async onlineUsers(userIds) {
      assertUserIds(userIds);
      const byRoom = new Map<string, string[]>();
      for (const userId of new Set(userIds)) {
        const room = userPresenceRoom(userId);
        byRoom.set(room, [...(byRoom.get(room) ?? []), userId]);
      }
      const lookups = Promise.all(
        [...byRoom].map(async ([room, ids]) => {
          const counts = await redis.hmget(keys.users(room), ...ids);
          return ids.filter((_, i) => counts[i] !== null);
        }),
      );
      const online = await withDeadline(lookups, deadlineMs);
      return new Set(online.flat());
    },
  };
}

/** Rejects after `ms`; the command itself is left to finish (or fail) on its own. */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`Redis did not answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
