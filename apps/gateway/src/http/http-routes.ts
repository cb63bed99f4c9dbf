import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, ok } from '@im/protocol';
import type { GatewayMetrics } from './metrics.ts';

export interface HttpRoutesOptions {
  metrics: GatewayMetrics;
  /** Redis subscription alive and MySQL reachable. */
  isReady(): Promise<{ ready: boolean; checks: Record<string, 'ok' | 'down'> }>;
}

/** Plain HTTP on the gateway's port: health, readiness and Prometheus metrics. */
export function httpRoutes(options: HttpRoutesOptions) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(response, 200, ok({ status: 'alive' }));
    if (path === '/readyz') {
      const { ready, checks } = await options.isReady();
      if (ready) return json(response, 200, ok(checks));
      const failure = errors.serviceUnavailable();
      return json(response, 503, { code: failure.code, data: checks, msg: failure.message });
    }
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': options.metrics.registry.contentType });
      response.end(await options.metrics.registry.metrics());
      return;
    }
    const missing = errors.notFound('这里只有 WebSocket 聊天接口');
    json(response, 404, { code: missing.code, data: {}, msg: missing.message });
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
