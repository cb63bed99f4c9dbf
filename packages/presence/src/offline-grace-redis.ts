import type { Cluster, Redis } from 'ioredis';
import type { OfflineGrace } from './offline-grace.ts';
import { offlineDueScript, takeDueScript } from './presence-scripts.ts';
import { assertPositiveInteger, assertUserId } from './validate.ts';

export interface RedisOfflineGraceOptions {
  /** A connected client (its commandTimeout is every call's deadline). */
  redis: Redis | Cluster;
  /** The presence's prefix, e.g. `im:`. */
  prefix: string;
  graceMs: number;
}

/**
 * OfflineGrace on Redis: one sorted set of pending notices (user → when due, by the server's
 * clock, so gateways with skewed clocks agree), one key and so one slot on Redis Cluster.
 */
export function createRedisOfflineGrace(options: RedisOfflineGraceOptions): OfflineGrace {
  const { redis, prefix, graceMs } = options;
  assertPositiveInteger('graceMs', graceMs);
  const key = `${prefix}{peer-offline}:due`;
  return {
    async wentOffline(userId) {
      assertUserId(userId);
      await offlineDueScript.run(redis, [key], [userId, graceMs]);
    },
    async cameOnline(userId) {
      assertUserId(userId);
      return { tellPeers: (await redis.zrem(key, userId)) === 0 };
    },
    async takeDue(max) {
      assertPositiveInteger('max', max);
      return (await takeDueScript.run(redis, [key], [max])) as string[];
    },
  };
}
