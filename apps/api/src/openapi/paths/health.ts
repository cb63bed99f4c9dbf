import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { readinessSchema } from '../schemas.ts';
import { failureResponses, jsonResponses } from '../responses.ts';

/** routes/health.ts: what load balancers and Prometheus call. */
export const healthPaths: ZodOpenApiPathsObject = {
  '/healthz': {
    get: {
      tags: ['operations'],
      summary: 'The process answers',
      responses: jsonResponses('Alive', z.strictObject({ status: z.literal('alive') }), []),
    },
  },
  '/readyz': {
    get: {
      tags: ['operations'],
      summary: 'MySQL and Redis answer too (point load balancers here)',
      description: '503 / 1500 with data {mysql, redis} naming what is down.',
      responses: jsonResponses('Ready', readinessSchema, []),
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      summary: 'Prometheus metrics of this API process',
      description: "Scrape each API process on its own port (system.api_port); the front doors answer 404 for /metrics.",
      responses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
        ...failureResponses([]),
      },
    },
  },
};
