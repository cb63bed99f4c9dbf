import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { failureResponses } from '../responses.ts';

const socketQuery = {
  Authorization: z.string().optional().meta({ description: '"bearer <jwt>" (browsers cannot set headers); or the Authorization header, or the subprotocols "bearer, <jwt>"' }),
  last_id: z.string().regex(/^\d{1,20}$/).optional().meta({ description: 'The highest message id the client has: every later message comes first, in order' }),
};

const upgrade = {
  101: { description: 'Switched to WebSocket; frames are described by /api/ws-frames.schema.json (docs/protocol.md)' },
  // 429: the user already holds gateway.max_connections_per_user sockets on that gateway.
  ...failureResponses([400, 401, 403, 404, 429]),
};

/**
 * The chat sockets. A gateway serves them, not this API (the front door routes the paths there);
 * they are here so that one document lists every HTTP path, upgrade refusals included.
 */
export const chatPaths: ZodOpenApiPathsObject = {
  '/api/chat_groups': {
    get: {
      tags: ['chat'],
      summary: 'WebSocket: the group room',
      description:
        'Refused upgrades answer in the envelope before any socket exists; 429 / 1007 past gateway.max_connections_per_user sockets of one user; 503 / 1500 while the gateway drains.',
      'x-served-by': 'gateway',
      requestParams: { query: z.object(socketQuery) },
      responses: upgrade,
    },
  },
  '/api/chat_private': {
    get: {
      tags: ['chat'],
      summary: 'WebSocket: a private conversation with target_id',
      description:
        'Refused upgrades answer in the envelope before any socket exists; 429 / 1007 past gateway.max_connections_per_user sockets of one user; 503 / 1500 while the gateway drains.',
      'x-served-by': 'gateway',
      requestParams: { query: z.object({ ...socketQuery, target_id: z.string().regex(/^[0-9a-fA-F]{10}$/).meta({ description: 'The peer: an existing user, not yourself' }) }) },
      responses: upgrade,
    },
  },
};
