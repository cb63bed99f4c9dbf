import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The API's Prometheus metrics, on a registry of its own per app (tests build several apps in one
 * process). Served at `GET /metrics`; deploy/grafana/im-cluster.json charts them.
 */
export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'im_api_requests_total',
      help: 'HTTP requests answered, by method, route pattern (or "unmatched") and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'im_api_request_duration_seconds',
      help: 'From a request arriving to its answer starting (a download streams on after), by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'im_api_rate_limited_total',
      help: 'Requests refused with 1007 by a sign-in limit: login-ip, login-account or register-ip',
      labelNames: ['limit'],
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
