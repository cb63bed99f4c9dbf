import { createDocument, type ZodOpenApiPathsObject } from 'zod-openapi';
import { avatarsPaths } from './paths/avatars.ts';
import { chatPaths } from './paths/chat.ts';
import { docsPaths } from './paths/docs.ts';
import { filesPaths } from './paths/files.ts';
import { healthPaths } from './paths/health.ts';
import { historyPaths } from './paths/history.ts';
import { usersPaths } from './paths/users.ts';
import { roomsPaths } from './paths/rooms.ts';
import { conversationsPaths } from './paths/conversations.ts';

/**
 * Every path of the API, one file per router under paths/. A new route gets its entry there,
 * built from the same zod schema the route validates with; apps/api/test/openapi.test.ts fails for
 * a route of the app that is missing here, and for an answer that does not match its entry.
 */
const PATHS: ZodOpenApiPathsObject[] = [
  healthPaths,
  docsPaths,
  usersPaths,
  avatarsPaths,
  filesPaths,
  historyPaths,
  chatPaths,
  roomsPaths,
  conversationsPaths,
];

let built: ReturnType<typeof createDocument> | undefined;

/** The OpenAPI 3.1 document served at /api/openapi.json (built once). */
export function openApiDocument(): ReturnType<typeof createDocument> {
  built ??= createDocument({
    openapi: '3.1.0',
    info: {
      title: 'IM cluster API',
      version: '1.0.0',
      description:
        'HTTP API of the IM cluster (docs/protocol.md). Every JSON answer is the envelope {code, data, msg}; code 0 is success. ' +
        'Every answer carries X-Request-Id (the request\'s own, or a new one), which the server\'s log lines name.',
    },
    tags: [
      { name: 'users', description: 'Accounts, two-step login, avatars' },
      { name: 'history', description: 'Stored chat messages' },
      { name: 'files', description: 'Uploads and downloads' },
      { name: 'rooms', description: 'Rooms with members and roles (Part 2)' },
      { name: 'inbox', description: 'Conversations, their history and read cursors (Part 2)' },
      { name: 'chat', description: 'WebSocket endpoints (served by the gateways)' },
      { name: 'operations', description: 'Health, readiness, metrics' },
      { name: 'documentation', description: 'This document and the WebSocket frames schema' },
    ],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        tokenHeader: { type: 'apiKey', in: 'header', name: 'token', description: "The original server's header, still accepted" },
      },
    },
    paths: Object.assign({}, ...PATHS),
  });
  return built;
}
