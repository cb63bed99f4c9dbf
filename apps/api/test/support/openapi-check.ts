import type Koa from 'koa';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with its function as the default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const DOC_ID = 'https://im-cluster.invalid/openapi.json';
/** Top-level members of an OpenAPI document: not JSON Schema keywords, ajv is told to pass them by. */
const OPENAPI_MEMBERS = ['openapi', 'info', 'tags', 'paths', 'components', 'servers', 'security', 'webhooks', 'jsonSchemaDialect', 'externalDocs'];

export interface Route {
  method: string;
  /** OpenAPI form: `/uploads/avatar/{name}`. */
  path: string;
}

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

/**
 * Holds real answers to an OpenAPI document: the response the document gives for the route and
 * status must exist, list the answer's media type, and (for JSON) its schema must accept the
 * body. ajv compiles the document's own schemas, `$ref`s to components included.
 */
export function openApiChecker(document: unknown) {
  const doc = JSON.parse(JSON.stringify(document)) as Doc;
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }));
  for (const member of OPENAPI_MEMBERS) ajv.addKeyword(member);
  ajv.addSchema({ ...doc, $id: DOC_ID });

  return {
    doc,
    /** Problems with one real answer; empty when the document describes it. */
    problems(route: Route, status: number, contentType: string | null, body: string): string[] {
      const where = `${route.method.toUpperCase()} ${route.path} → ${status}`;
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      if (!operation) return [`${where}: the route is not in the document`];
      const response = operation.responses[String(status)];
      if (!response) return [`${where}: the status is not in the document (it lists ${Object.keys(operation.responses).join(', ')})`];
      if (!response.content) return body === '' ? [] : [`${where}: the document says no body, got ${body.slice(0, 80)}`];
      const mediaType = (contentType ?? '').split(';')[0]!.trim();
      const documented = Object.keys(response.content).find((type) => type === mediaType || type === '*/*');
      if (!documented) return [`${where}: ${mediaType} is not among ${Object.keys(response.content).join(', ')}`];
      if (documented !== 'application/json') return [];
      const pointer = ['paths', route.path, route.method.toLowerCase(), 'responses', String(status), 'content', documented, 'schema'];
      const validate = ajv.getSchema(`${DOC_ID}#/${pointer.map(escapeToken).join('/')}`)!;
      return validate(JSON.parse(body)) ? [] : [`${where}: ${ajv.errorsText(validate.errors, { dataVar: 'body' })} in ${body.slice(0, 300)}`];
    },
  };
}

/** A JSON pointer token inside a URI fragment. */
function escapeToken(token: string): string {
  return encodeURIComponent(token.replace(/~/g, '~0').replace(/\//g, '~1'));
}

/**
 * Every route of the app's Koa routers (GET also answers HEAD; that is not a route of its own),
 * read from the routers' own tables.
 */
export function appRoutes(app: Koa): Route[] {
  const routes: Route[] = [];
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: { stack: Array<{ path: string | RegExp; methods: string[] }> } }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
      for (const method of layer.methods) if (method !== 'HEAD') routes.push({ method, path });
    }
  }
  return routes;
}
