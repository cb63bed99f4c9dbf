import type { Cluster, Redis } from 'ioredis';
import { presenceKeys } from './presence-keys.ts';
import { withDeadline } from './online-users-redis.ts';
import { assertUserIds } from './validate.ts';

export interface RedisRoomUsersOptions {
  redis: Redis | Cluster;
  /** The gateways' presence prefix. */
  prefix: string;
  /** @default 2_000 */
  deadlineMs?: number;
}

/**
 * Reads room-level presence without being a gateway: which of some users hold a connection in a
 * room (a Part 1 socket on `group` or on a private chat) anywhere in the cluster. One HMGET.
 */
export function createRedisRoomUsers(options: RedisRoomUsersOptions) {
  const { redis, deadlineMs = 2_000 } = options;
  if (typeof redis?.hmget !== 'function') throw new TypeError('createRedisRoomUsers: `redis` must be an ioredis client');
  if (typeof options.prefix !== 'string' || /[{}]/.test(options.prefix)) throw new TypeError('createRedisRoomUsers: `prefix` must be a string without { or }');
  const keys = presenceKeys(options.prefix);
  return {
    /** The subset of `userIds` with a connection in `room` on any gateway. */
    async onlineInRoom(room: string, userIds: readonly string[]): Promise<Set<string>> {
      assertUserIds(userIds);
      if (userIds.length === 0) return new Set();
      const counts = await withDeadline(redis.hmget(keys.users(room), ...userIds), deadlineMs);
      return new Set(userIds.filter((_, i) => counts[i] !== null));
    },
  };
}
