import { Redis } from 'ioredis';
import { redactUrl } from '@im/config';

/** Raised when a backing service is unreachable at start-up; `message` is the line to print. */
export class StartupError extends Error {
  override name = 'StartupError';
}

const HOW_TO_START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';
const HOW_TO_START_MYSQL = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd';

/** Deadlines of a Redis connection: `redis.connect_timeout_ms` and `redis.command_timeout_ms`. */
export interface RedisDeadlines {
  connect_timeout_ms: number;
  /** null: no deadline, for connections that block on purpose (BullMQ's worker). */
  command_timeout_ms: number | null;
}

/**
 * What a caller that passes no deadlines gets: the defaults of config/settings.yaml
 * (packages/runtime/test/deadline-defaults.test.ts holds them equal).
 */
export const DEFAULT_REDIS_DEADLINES: RedisDeadlines = { connect_timeout_ms: 1_000, command_timeout_ms: 1_000 };

/**
 * Connects to Redis once, failing fast with the URL and how to start Redis. After that the client
 * reconnects on its own (ioredis' default), so a Redis restart does not kill the process.
 *
 * Every command has a deadline (`command_timeout_ms`), also while it waits in the offline queue
 * for a reconnect: a Redis that is frozen (SIGSTOP, a stalled VM) keeps its TCP connections open
 * and would otherwise hold each caller until it wakes up. A command past its deadline rejects with
 * "Command timed out", which the apps answer with 1500.
 */
export async function connectRedis(
  url: string,
  options: {
    name: string;
    maxRetriesPerRequest?: number | null;
    /** Commands issued in the same tick go out in one write (ioredis auto-pipelining). @default false */
    autoPipelining?: boolean;
    /** @default DEFAULT_REDIS_DEADLINES */
    deadlines?: RedisDeadlines;
  },
): Promise<Redis> {
  const deadlines = options.deadlines ?? DEFAULT_REDIS_DEADLINES;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: options.name,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
    connectTimeout: deadlines.connect_timeout_ms,
    ...(deadlines.command_timeout_ms === null ? {} : { commandTimeout: deadlines.command_timeout_ms }),
    // Only the first connect should fail fast; later drops retry with backoff.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Errors surface through commands; without a listener ioredis would print them unstructured.
  let firstError: Error | undefined;
  redis.on('error', (err: Error) => {
    firstError ??= err;
  });
  try {
    await withTimeout(redis.connect(), 3_000);
    await redis.ping();
  } catch (err) {
    // ioredis keeps reconnecting after a failed first attempt unless told to stop.
    redis.disconnect();
    const reason = (firstError ?? (err as Error)).message;
    throw new StartupError(`${options.name}: cannot reach Redis at ${redactUrl(url)} (${reason}); start it with: ${HOW_TO_START_REDIS}`);
  }
  return redis;
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
