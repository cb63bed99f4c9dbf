import { Redis } from 'ioredis';

/** The test Redis: a loopback server shared with other suites, so keys carry a unique prefix. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A client that is connected when returned, as the factories expect. */
export async function connectRedis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  await client.connect();
  return client;
}
