import type { Middleware } from 'koa';
import type { Logger } from '@im/logger';

/**
 * One line per request. Logs `ctx.path`, never the query string or headers: tokens may travel in
 * either.
 */
export function requestLogger(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          duration_ms: Math.round((performance.now() - started) * 10) / 10,
          ip: ctx.ip,
          user_id: (ctx.state as { auth?: { userId: string } }).auth?.userId,
        },
        'request',
      );
    }
  };
}
