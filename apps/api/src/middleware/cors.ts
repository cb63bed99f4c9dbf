import cors from '@koa/cors';
import type { Middleware } from 'koa';

/**
 * CORS for the browser origins allowed to use this deployment (`gateway.allowed_origins`, the
 * same list the gateways check WebSocket handshakes against, so one setting says where the web
 * app may run). An allowed Origin is echoed back; any other gets no CORS headers and the browser
 * keeps the answer from the page. `*` allows every origin. Tokens travel in the Authorization
 * header, never in cookies, so credentials are not allowed.
 */
export function corsForOrigins(allowedOrigins: readonly string[]): Middleware {
  const anyOrigin = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return origin && (anyOrigin || allowed.has(origin)) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    // `token` is the original server's header for the JWT; Range and If-* for file downloads.
    allowHeaders: ['Authorization', 'Content-Type', 'Token', 'Range', 'If-Range', 'If-None-Match', 'X-Request-Id'],
    // What a page may read: the download's name and size, resumable ranges, how long to back off,
    // and the request id to quote in a bug report.
    exposeHeaders: ['Content-Disposition', 'Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'Retry-After', 'X-Request-Id'],
    // Browsers cap this (Chromium at 2 h); 10 min keeps origin changes quick to take effect.
    maxAge: 600,
  });
}
