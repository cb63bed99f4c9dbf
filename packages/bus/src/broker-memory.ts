import type { Broker, MessageHandler } from './broker.ts';
import {
  assertChannel,
  assertHandler,
  assertOnError,
  assertPayload,
  deliver,
  reportToConsole,
  type ErrorReporter,
} from './handlers.ts';

/**
 * Stands in for the Redis server: brokers created on the same hub see each other's messages, the
 * way gateway processes sharing one Redis do.
 */
export interface MemoryHub {
  readonly kind: 'memory-hub';
}

interface MemoryMember {
  receive(channel: string, payload: Buffer): void;
}

// Kept off the hub object so callers cannot reach into it.
const hubMembers = new WeakMap<MemoryHub, Set<MemoryMember>>();

export function createMemoryHub(): MemoryHub {
  const hub: MemoryHub = Object.freeze({ kind: 'memory-hub' });
  hubMembers.set(hub, new Set());
  return hub;
}

export interface MemoryBrokerOptions {
  /** Brokers on one hub form one cluster. @default a new hub, private to this broker */
  hub?: MemoryHub;
  /** Receives exceptions thrown by handlers. @default logs with console.error */
  onError?: (err: unknown) => void;
}

/** In-process broker for unit tests and the single-process mode. */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  assertOnError(options.onError);
  const members = hubMembers.get(options.hub ?? createMemoryHub());
  if (!members) throw new TypeError('bus: hub must come from createMemoryHub()');
  const onError: ErrorReporter = options.onError ?? reportToConsole;
  const channels = new Map<string, Set<MessageHandler>>();
  let closed = false;

  const member: MemoryMember = {
    receive(channel, payload) {
      const handlers = channels.get(channel);
      if (!handlers) return;
      // Each "process" gets its own copy, and never before publish() returns, as with Redis.
      const copy = Buffer.from(payload);
      queueMicrotask(() => deliver(handlers, copy, onError));
    },
  };
  members.add(member);

  const assertOpen = () => {
    if (closed) throw new Error('bus: broker is closed');
  };

  return {
    async publish(channel, payload) {
      assertOpen();
      assertChannel(channel);
      assertPayload(payload);
      const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
      for (const other of members) other.receive(channel, bytes);
    },

    async publishMany(messages) {
      assertOpen();
      for (const { channel, payload } of messages) {
        assertChannel(channel);
        assertPayload(payload);
      }
      for (const { channel, payload } of messages) {
        const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
        for (const other of members) other.receive(channel, bytes);
      }
      return messages.map(() => undefined);
    },

    async subscribe(channel, handler) {
      assertOpen();
      assertChannel(channel);
      assertHandler(handler);
      let handlers = channels.get(channel);
      if (!handlers) channels.set(channel, (handlers = new Set()));
      handlers.add(handler);
    },

    async unsubscribe(channel, handler) {
      const handlers = channels.get(channel);
      if (!handlers?.delete(handler)) return;
      if (handlers.size === 0) channels.delete(channel);
    },

    // The memory hub never drops a connection, so there is never anything to restore.
    onResubscribed() {
      return () => {};
    },

    isHealthy() {
      return !closed;
    },

    async close() {
      closed = true;
      members.delete(member);
      for (const handlers of channels.values()) handlers.clear();
      channels.clear();
    },
  };
}
