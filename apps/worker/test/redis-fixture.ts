import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import { queuePrefix } from '@im/jobs';

export interface RedisFixture {
  /** A client as the worker wants it (`maxRetriesPerRequest: null`). */
  connection: Redis;
  /** Unique to this fixture, ending in ":" like the deployment prefix in settings.yaml. */
  prefix: string;
  /** Deletes every key under the prefix and closes the client. */
  cleanup(): Promise<void>;
}

export async function createRedisFixture(): Promise<RedisFixture> {
  // At most 32 characters: the black-box tests pass it through config validation.
  const prefix = `test-${randomUUID().slice(0, 18)}:`;
  const connection = new Redis(loadConfig().redis.url, { maxRetriesPerRequest: null });
  await connection.ping();
  return {
    connection,
    prefix,
    async cleanup() {
      // The prefix is unique to this test, so everything under it is ours (never FLUSHDB).
      const match = `${queuePrefix(prefix, connection)}:*`;
      let cursor = '0';
      do {
        const [next, keys] = await connection.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        if (keys.length > 0) await connection.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await connection.quit();
    },
  };
}
