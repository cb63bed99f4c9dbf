import type { MessageHandler } from './broker.ts';

/** Where a throwing handler (or a failed background command) is reported. */
export type ErrorReporter = (err: unknown) => void;

/** The fallback when the caller passes no `onError`: never swallow a bug silently. */
export const reportToConsole: ErrorReporter = (err) => {
  console.error('[bus]', err);
};

/**
 * Calls each handler with the payload. The Set is iterated live, so a handler removed by an
 * earlier one during this very delivery is skipped, as `unsubscribe` promises.
 */
export function deliver(handlers: Set<MessageHandler>, payload: Buffer, onError: ErrorReporter): void {
  for (const handler of handlers) {
    try {
      handler(payload);
    } catch (err) {
      onError(err);
    }
  }
}

export function assertChannel(channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new TypeError(`bus: channel must be a non-empty string, got ${JSON.stringify(channel)}`);
  }
}

export function assertHandler(handler: unknown): asserts handler is MessageHandler {
  if (typeof handler !== 'function') throw new TypeError('bus: handler must be a function');
}

export function assertPayload(payload: unknown): asserts payload is Buffer | string {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
    throw new TypeError('bus: payload must be a Buffer or a string');
  }
}

export function assertOnError(onError: unknown): asserts onError is ErrorReporter | undefined {
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError('bus: onError must be a function when given');
  }
}
