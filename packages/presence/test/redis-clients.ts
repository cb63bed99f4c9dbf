import { Redis } from 'ioredis';

/** The test Redis: a loopback server shared with other suites, so keys carry a unique prefix. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A client that is connected when returned, as the factories expect. */
export async function connectRedis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  await client.connect();
  return client;
}

/** Deletes every key under `prefix` (and nothing else: the server is shared). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
