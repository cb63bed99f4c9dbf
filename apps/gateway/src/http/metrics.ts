import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics, on its own registry so tests can build several gateways. */
export function createMetrics(gatewayId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ gateway: gatewayId });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    connections: new Gauge({ name: 'im_gateway_connections', help: 'Open client sockets', registers: [registry] }),
    upgradesRejected: new Counter({
      name: 'im_gateway_upgrades_rejected_total',
      help: 'Upgrades refused before a socket existed, by HTTP status',
      labelNames: ['status'],
      registers: [registry],
    }),
    messagesIn: new Counter({
      name: 'im_gateway_messages_in_total',
      help: 'Chat messages stored from this gateway’s clients',
      registers: [registry],
    }),
    framesRejected: new Counter({
      name: 'im_gateway_frames_rejected_total',
      help: 'Client frames answered with an error, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'im_gateway_deliveries_total',
      help: 'Frames written to local sockets (messages out)',
      registers: [registry],
    }),
    publishes: new Counter({
      name: 'im_gateway_publishes_total',
      help: 'Redis PUBLISH commands sent, by what they carry: a stored message, or a transient frame (typing, receipts, presence, room events, file progress)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    fanoutLatency: new Histogram({
      name: 'im_gateway_fanout_latency_seconds',
      help: 'From a message being stored to this gateway handing it to its sockets',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    redisErrors: new Counter({
      name: 'im_gateway_redis_errors_total',
      help: 'Failed Redis operations (publish, presence, subscriptions)',
      labelNames: ['operation'],
      registers: [registry],
    }),
    catchUpPages: new Counter({
      name: 'im_gateway_catchup_pages_total',
      help: 'Catch-up pages (last_id) served, by where they came from: memory (recent frames) or mysql',
      labelNames: ['source'],
      registers: [registry],
    }),
    resumeFailures: new Counter({
      name: 'im_gateway_resume_failures_total',
      help: '/api/chat resumes answered 1500, by what did not answer in time: membership (the whole resume), join (subscribing a conversation) or catch_up (reading its history)',
      labelNames: ['stage'],
      registers: [registry],
    }),
    shed: new Counter({
      name: 'im_gateway_sockets_shed_total',
      help: 'Sockets closed for reading too slowly',
      registers: [registry],
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
