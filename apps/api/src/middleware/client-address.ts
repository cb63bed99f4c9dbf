import type { Middleware } from 'koa';
import proxyaddr from 'proxy-addr';

/**
 * Sets `ctx.ip` to the client's address: the peer's own address, unless the peer is one of
 * `trustedProxies` (system.trusted_proxies), in which case X-Forwarded-For is walked from the
 * right past every trusted hop (proxy-addr, as Express does). Anyone else's X-Forwarded-For is
 * ignored, so a client that reaches the API port directly cannot choose the address its rate
 * limits are counted against.
 */
export function clientAddress(trustedProxies: readonly string[]): Middleware {
  const trust = proxyaddr.compile([...trustedProxies]);
  return async (ctx, next) => {
    ctx.request.ip = proxyaddr(ctx.req, trust);
    await next();
  };
}
