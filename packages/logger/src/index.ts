import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Field names that may carry secrets anywhere in a log object. pino removes them before the line
 * is written, so a careless `log.info({ body })` cannot leak a password, code or token.
 */
const REDACTED_PATHS = [
  'password',
  'code',
  'token',
  'authorization',
  'secret',
  '*.password',
  '*.code',
  '*.token',
  '*.authorization',
  '*.secret',
  'headers.authorization',
  'headers.token',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.token',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
];

export interface LoggerOptions {
  /** Process name written as `service` on every line. */
  service: string;
  /** @default 'info' */
  level?: string;
  /** Where lines go; tests pass a stream to read them back. @default stdout */
  destination?: NodeJS.WritableStream;
}

/** Fields that every line logged inside `withLogFields` carries (the request id of a request). */
const context = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/**
 * Runs `fn` so that every line any logger writes while it runs, in its callbacks and promises
 * too, carries `fields`: the API wraps each request in it, so a request's lines all name its
 * request id without each caller passing a child logger down.
 */
export function withLogFields<T>(fields: Readonly<Record<string, unknown>>, fn: () => T): T {
  return context.run(fields, fn);
}

/** One JSON object per line, with secrets removed. */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, remove: true },
      formatters: { level: (label) => ({ level: label }) },
      // A new object each line: pino merges the line's own fields into what mixin returns.
      mixin: () => ({ ...context.getStore() }),
    },
    destination ?? pino.destination({ sync: false }),
  );
}
