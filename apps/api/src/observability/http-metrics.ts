import type { Middleware } from 'koa';
import type { ApiMetrics } from './metrics.ts';

/** Label for requests no route matched (404s), so probing clients cannot grow the label set. */
const UNMATCHED = 'unmatched';

/**
 * Counts and times every request by its route pattern (`/api/files/download`, never the raw path,
 * which could hold anything). Sits outside the error handler, so failures count with their status.
 */
export function httpMetrics(metrics: ApiMetrics): Middleware {
  return async (ctx, next) => {
    const stopTimer = metrics.requestDuration.startTimer();
    try {
      await next();
    } finally {
      // Set by @koa/router on the context of a request that a route matched.
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const labels = { method: ctx.method, route: matched === undefined ? UNMATCHED : String(matched), status: String(ctx.status) };
      metrics.requests.inc(labels);
      stopTimer(labels);
    }
  };
}
