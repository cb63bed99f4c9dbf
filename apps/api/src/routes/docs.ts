import Router from '@koa/router';
import { wsFramesJsonSchema } from '@im/protocol';
import { openApiDocument } from '../openapi/document.ts';

/**
 * Machine-readable descriptions, no token needed: the OpenAPI 3.1 document of this API, and the
 * JSON Schema of the WebSocket frames (docs/protocol.md explains both).
 */
export function docsRouter(): Router {
  const router = new Router({ prefix: '/api' });
  let frames: Record<string, unknown> | undefined;

  router.get('/openapi.json', (http) => {
    http.body = openApiDocument();
  });

  router.get('/ws-frames.schema.json', (http) => {
    frames ??= wsFramesJsonSchema();
    http.body = frames;
  });

  return router;
}
