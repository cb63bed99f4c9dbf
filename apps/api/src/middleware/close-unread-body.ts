import type { Socket } from 'node:net';
import type { Middleware } from 'koa';

/**
 * How long a connection stays open, reading nothing, after an answer sent before the request body
 * was read: long enough for the client to read that answer before the connection is reset.
 */
const LINGER_MS = 2_000;

/**
 * Closes the connection after an answer given before the request body was read to its end (a 413
 * for an oversize upload, a refused or malformed one): the rest of a body the client claims to be
 * 300 MiB is not worth reading only to keep the connection alive.
 *
 * Hand-written because Node's server would either read the rest of the body (keep-alive) or, with
 * `Connection: close`, reset the connection right after the answer, which can destroy the answer
 * on its way to a client that is still sending. Instead, as nginx's lingering close does: the
 * answer says `Connection: close` and is followed by a FIN; the request side is no longer read, so
 * the client's sending stalls once the socket buffers are full; after LINGER_MS, or as soon as the
 * client hangs up, the socket is destroyed.
 */
export function closeUnreadBody(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      // Only refusals: a stored upload may end before busboy took the last bytes after its
      // closing boundary, and those few bytes are fine to read.
      if (ctx.status >= 400 && !ctx.req.complete && hasBody(ctx.req.headers)) {
        ctx.set('Connection', 'close');
        lingerThenClose(ctx.req.socket);
      }
    }
  };
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/**
 * Node's server calls `destroySoon()` on a socket whose answer carried `Connection: close`, once
 * that answer is written; this socket does the lingering close instead.
 */
function lingerThenClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.pause();
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}
