import type { Redis } from 'ioredis';
import { redactUrl } from '@im/config';
import { checkRedisReady, createRedisClient, type RedisClient, type RedisClientOptions, type RedisTarget } from './redis-client.ts';

/** Raised when a backing service is unreachable at start-up; `message` is the line to print. */
export class StartupError extends Error {
  override name = 'StartupError';
}

const HOW_TO_START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';
const HOW_TO_START_MYSQL = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd';

/**
 * Connects to Redis once, failing fast with the address and how to start Redis. After that the
 * client reconnects on its own, so a Redis restart does not kill the process. `target` is config
 * `redis` (a standalone server, or a Redis Cluster from its seed nodes) or a URL; see
 * createRedisClient for what each role gets.
 *
 * Every command has a deadline (`command_timeout_ms`), also while it waits in the offline queue
 * for a reconnect: a Redis that is frozen (SIGSTOP, a stalled VM) keeps its TCP connections open
 * and would otherwise hold each caller until it wakes up. A command past its deadline rejects with
 * "Command timed out", which the apps answer with 1500.
 */
export async function connectRedis(url: string, options: RedisClientOptions): Promise<Redis>;
export async function connectRedis(target: RedisTarget, options: RedisClientOptions): Promise<RedisClient>;
export async function connectRedis(target: RedisTarget | string, options: RedisClientOptions): Promise<RedisClient> {
  const redis = createRedisClient(target, options);
  // Errors surface through commands; without a listener ioredis would print them unstructured.
  let firstError: Error | undefined;
  redis.on('error', (err: Error) => {
    firstError ??= err;
  });
  try {
    await withTimeout(redis.connect(), 3_000);
    await checkRedisReady(redis);
  } catch (err) {
    // ioredis keeps reconnecting after a failed first attempt unless told to stop.
    redis.disconnect();
    const reason = (firstError ?? (err as Error)).message;
    throw new StartupError(`${options.name}: cannot reach Redis at ${describeTarget(target)} (${reason}); start it with: ${HOW_TO_START_REDIS}`);
  }
  return redis;
}

function describeTarget(target: RedisTarget | string): string {
  if (typeof target === 'string') return redactUrl(target);
  const seeds = target.cluster_nodes ?? [];
  return seeds.length > 0 ? `Redis Cluster ${seeds.join(',')}` : redactUrl(target.url);
}

/** Fails with the URL and how to start MariaDB when MySQL does not answer. */
export async function checkMysql(role: string, ping: () => Promise<void>, url: string): Promise<void> {
  try {
    await withTimeout(ping(), 8_000);
  } catch (err) {
    throw new StartupError(
      `${role}: cannot reach MySQL at ${redactUrl(url)} (${firstLine(err)}); start MariaDB with: ${HOW_TO_START_MYSQL}, ` +
        `then run: npm run db:migrate`,
    );
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n').filter(Boolean).slice(-1)[0] ?? 'unknown error';
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
