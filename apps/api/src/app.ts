import Koa from 'koa';
import { koaBody } from 'koa-body';
import { errors } from '@im/protocol';
import type { ApiDeps } from './deps.ts';
import { buildServices } from './services.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { requestLogger } from './middleware/request-logger.ts';
import { clientAddress } from './middleware/client-address.ts';
import { closeUnreadBody } from './middleware/close-unread-body.ts';
import { corsForOrigins } from './middleware/cors.ts';
import { usersRouter } from './routes/users.ts';
import { healthRouter } from './routes/health.ts';
import { avatarsRouter } from './routes/avatars.ts';
import { historyRouter } from './routes/history.ts';
import { filesRouter } from './routes/files.ts';
import { roomsRouter } from './routes/rooms.ts';
import { conversationsRouter } from './routes/conversations.ts';
import { docsRouter } from './routes/docs.ts';
import { requestId } from './observability/request-id.ts';
import { httpMetrics } from './observability/http-metrics.ts';

const JSON_LIMIT = '64kb';

/** The API as a Koa app, with no listening socket: index.ts listens, tests may too. */
export function createApp(deps: ApiDeps): Koa {
  const ctx = buildServices(deps);
  // Koa's own `proxy` would believe X-Forwarded-For from any peer; clientAddress asks who sent it.
  const app = new Koa({ proxy: false });
  // Koa would print errors to stderr itself; the error handler logs them as JSON instead.
  app.silent = true;

  app.use(requestId());
  app.use(clientAddress(deps.config.system.trusted_proxies));
  app.use(requestLogger(deps.logger));
  app.use(httpMetrics(ctx.metrics));
  app.use(closeUnreadBody());
  // Before the error handler: error answers carry the CORS headers too, so a page can read them.
  app.use(corsForOrigins(deps.config.gateway.allowed_origins));
  app.use(errorHandler(deps.logger));
  app.use(koaBody({ json: true, jsonStrict: true, jsonLimit: JSON_LIMIT, multipart: false, urlencoded: false, text: false }));

  for (const router of [healthRouter(ctx), docsRouter(), usersRouter(ctx), avatarsRouter(ctx), historyRouter(ctx), filesRouter(ctx), roomsRouter(ctx), conversationsRouter(ctx)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.use(() => {
    throw errors.notFound('接口不存在');
  });
  return app;
}
