import { Redis } from 'ioredis';
import { redactUrl } from '@im/config';

/** Raised when a backing service is unreachable at start-up; `message` is the line to print. */
export class StartupError extends Error {
  override name = 'StartupError';
}

const HOW_TO_START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';
const HOW_TO_START_MYSQL = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd';

/**
 * Connects to Redis once, failing fast with the URL and how to start Redis. After that the client
 * reconnects on its own (ioredis' default), so a Redis restart does not kill the process.
 */
export async function connectRedis(
  url: string,
  options: {
    name: string;
    maxRetriesPerRequest?: number | null;
    /** Commands issued in the same tick go out in one write (ioredis auto-pipelining). @default false */
    autoPipelining?: boolean;
  },
): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: options.name,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
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
