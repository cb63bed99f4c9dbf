import type { z } from 'zod';
import type { ZodOpenApiResponsesObject } from 'zod-openapi';
import { errorEnvelope, okEnvelope } from './schemas.ts';

/** Why each HTTP status answers; the envelope's `code` is in docs/protocol.md's table. */
const FAILURES = {
  400: 'Invalid input (1002): data.errors lists every problem by field',
  401: 'Not authenticated (1003): token missing, malformed, expired or revoked',
  403: 'Forbidden (1004)',
  404: 'Not found (1005)',
  409: 'Conflict (1006): data.field names email or username',
  413: 'Payload too large (1008)',
  415: 'Type not allowed (1008)',
  416: 'Range not satisfiable (1002)',
  429: 'Too many requests (1007): Retry-After and data.retry_after_seconds',
  500: 'Internal failure (7), logged with the request id; never a stack or SQL',
  503: 'MySQL or Redis unavailable (1500): retry',
} as const;

type FailureStatus = keyof typeof FAILURES;

/** Every route that reaches MySQL or Redis may answer these. */
const ALWAYS: FailureStatus[] = [500, 503];

/** The 200 answer `{code: 0, data, msg}` plus the failures a route can answer, in the envelope. */
export function jsonResponses(description: string, data: z.ZodType, failures: FailureStatus[]): ZodOpenApiResponsesObject {
  return {
    200: { description, content: { 'application/json': { schema: okEnvelope(data) } } },
    ...failureResponses(failures),
  };
}

export function failureResponses(failures: FailureStatus[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    [...new Set([...failures, ...ALWAYS])]
      .sort()
      .map((status) => [status, { description: FAILURES[status], content: { 'application/json': { schema: errorEnvelope } } }]),
  );
}

/** Routes that need a token: `Authorization: bearer <jwt>`, or the original server's `token` header. */
export const signedIn: Array<Record<string, string[]>> = [{ bearer: [] }, { tokenHeader: [] }];
