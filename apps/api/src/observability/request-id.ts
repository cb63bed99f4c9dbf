import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { withLogFields } from '@im/logger';

/**
 * What a caller's `X-Request-Id` may be: nginx's `$request_id` (32 hex), UUIDs and the like.
 * Anything else (too long, spaces, control characters) is replaced, so it cannot forge log lines.
 */
const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestIdState {
  requestId: string;
}

/**
 * Gives every request an id: the caller's `X-Request-Id` (the front door passes one on) or a new
 * UUID. It is echoed in the answer's `X-Request-Id` and every log line written while the request
 * is handled carries it as `request_id`.
 */
export function requestId(): Middleware<RequestIdState> {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = ACCEPTED.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await withLogFields({ request_id: id }, next);
  };
}
