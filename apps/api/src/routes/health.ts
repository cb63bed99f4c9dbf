import Router from '@koa/router';
import { ok, errors } from '@im/protocol';
import { pingDb } from '@im/db';
import { checkRedisReady } from '@im/runtime';
import type { ApiContext } from '../services.ts';

/**
 * `/healthz`: the process answers. `/readyz`: MySQL and Redis answer too (load balancers use it;
 * on a Redis Cluster every reachable master says cluster_state:ok, see checkRedisReady),
 * each within `system.readiness_timeout_ms`, so a frozen one makes it 503, not hang.
 * `/metrics`: Prometheus metrics (the front doors do not pass it on; scrape the API's own port).
 */
export function healthRouter(ctx: ApiContext): Router {
  const router = new Router();
  const timeoutMs = ctx.config.system.readiness_timeout_ms;

  router.get('/healthz', (http) => {
    http.body = ok({ status: 'alive' });
  });

  router.get('/readyz', async (http) => {
    const [mysql, redis] = await Promise.all([
      probe(() => pingDb(ctx.db), timeoutMs),
      probe(() => checkRedisReady(ctx.redis), timeoutMs),
    ]);
    const checks = { mysql, redis };
    if (mysql === 'ok' && redis === 'ok') {
      http.body = ok(checks);
      return;
    }
    const failure = errors.serviceUnavailable();
    http.status = failure.status;
    http.body = { code: failure.code, data: checks, msg: failure.message };
  });

  router.get('/metrics', async (http) => {
    http.type = ctx.metrics.registry.contentType;
    http.body = await ctx.metrics.registry.metrics();
  });

  return router;
}

async function probe(check: () => Promise<void>, timeoutMs: number): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => {
    timer = setTimeout(() => resolve('down'), timeoutMs);
  });
  try {
    return await Promise.race([check().then(() => 'ok' as const), timeout]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
