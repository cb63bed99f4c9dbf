import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';

/** routes/docs.ts: the machine-readable descriptions of the API and of the WebSocket frames. */
export const docsPaths: ZodOpenApiPathsObject = {
  '/api/openapi.json': {
    get: {
      tags: ['documentation'],
      summary: 'This document (OpenAPI 3.1)',
      responses: { 200: { description: 'The document', content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } } } },
    },
  },
  '/api/ws-frames.schema.json': {
    get: {
      tags: ['documentation'],
      summary: 'JSON Schema (2020-12) of the WebSocket frames: $defs/ClientFrame and $defs/ServerFrame',
      responses: { 200: { description: 'The schema', content: { 'application/json': { schema: z.looseObject({ $defs: z.looseObject({}) }) } } } },
    },
  },
};
