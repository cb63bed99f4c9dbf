import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createMemoryOfflineGrace } from '../src/offline-grace-memory.ts';
import { createRedisOfflineGrace } from '../src/offline-grace-redis.ts';
import { createMemoryPresenceHub } from '../src/presence-memory.ts';
import { offlineGraceContract } from './offline-grace-contract.ts';
import { connectRedis, deleteKeys } from './redis-clients.ts';

offlineGraceContract('memory', async () => {
  const hub = createMemoryPresenceHub();
  return {
    async gateway(graceMs) {
      return createMemoryOfflineGrace({ hub, graceMs });
    },
    async close() {},
  };
});

offlineGraceContract('redis', async () => {
  const prefix = `test-${randomUUID()}:`;
  const clients: Redis[] = [];
  return {
    async gateway(graceMs) {
      const redis = await connectRedis();
      clients.push(redis);
      return createRedisOfflineGrace({ redis, prefix, graceMs });
    },
    async close() {
      const admin = await connectRedis();
      await deleteKeys(admin, prefix);
      await Promise.all([admin, ...clients].map((client) => client.quit()));
    },
  };
});
