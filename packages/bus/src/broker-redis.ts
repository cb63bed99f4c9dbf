import type { Cluster, Redis } from 'ioredis';
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

export interface RedisBrokerOptions {
  /** Connected client used for PUBLISH; it can be shared with the rest of the app. */
  pub: Redis | Cluster;
  /**
   * Connected client used for subscriptions, distinct from `pub`. Other brokers (with other
   * prefixes) may share it; this broker only touches its own channels.
   */
  sub: Redis | Cluster;
  /** Prepended to every channel name so apps and tests sharing a Redis stay apart, e.g. `im:`. */
  prefix: string;
  /**
   * Use SPUBLISH/SSUBSCRIBE (sharded pub/sub, Redis 7+) so the same channel names keep working
   * on Redis Cluster, where each message then travels within one shard only.
   * @default false
   */
  sharded?: boolean;
  /**
   * Receives exceptions thrown by handlers and failures of background commands (restoring
   * subscriptions, unsubscribing).
   * @default logs with console.error
   */
  onError?: (err: unknown) => void;
  /**
   * How often the subscriber connection is asked for a PING. A Redis that is frozen (SIGSTOP, a
   * stalled VM) keeps its TCP connections open and silent: without asking, the broker would stay
   * healthy while nothing is delivered. 0 turns the check off.
   * @default 1000
   */
  livenessCheckMs?: number;
  /** A PING unanswered for this long makes the broker unhealthy until one is answered. @default 1000 */
  livenessTimeoutMs?: number;
  /**
   * What the liveness check asks instead of a PING on `sub`. On a Redis Cluster, a PING reaches one
   * node; the cluster's state (every master reachable, `cluster_state:ok`) says whether every
   * shard delivers, and a failover then counts as a silence: once over, the subscriptions are
   * confirmed again and the listeners reload what was published meanwhile.
   * @default () => sub.ping()
   */
  livenessProbe?: () => Promise<unknown>;
}

interface Subscription {
  handlers: Set<MessageHandler>;
  /** Settles when Redis confirmed the first SUBSCRIBE for this channel. */
  confirmed: Promise<void>;
}

/** Broker over Redis pub/sub. The clients stay the caller's: `close()` does not quit them. */
export function createRedisBroker(options: RedisBrokerOptions): Broker {
  validate(options);
  const { pub, sub, prefix, sharded = false } = options;
  const onError: ErrorReporter = options.onError ?? reportToConsole;
  const subscriptions = new Map<string, Subscription>();
  const resubscribedListeners = new Set<() => void>();
  let closed = false;
  let lost = false;
  /** The last liveness PING went unanswered; cleared (and subscriptions restored) by the next answer. */
  let silent = false;
  let restoreRun = 0;
  let restoring = false;

  // Cluster refuses a multi-channel SSUBSCRIBE across slots, so sharded mode sends one per channel.
  const sendSubscribe = async (keys: string[]): Promise<void> => {
    if (sharded) await Promise.all(keys.map((key) => sub.ssubscribe(key)));
    else await sub.subscribe(...keys);
  };
  const sendUnsubscribe = async (keys: string[]): Promise<void> => {
    if (sharded) await Promise.all(keys.map((key) => sub.sunsubscribe(key)));
    else await sub.unsubscribe(...keys);
  };

  const onMessage = (channel: Buffer, payload: Buffer) => {
    const subscription = subscriptions.get(channel.toString());
    if (subscription) deliver(subscription.handlers, payload, onError);
  };
  const onClose = () => {
    lost = true;
  };
  // ioredis may resubscribe by itself (autoResubscribe), but it cannot tell us when that is
  // confirmed, and the app may have turned it off. A second SUBSCRIBE to a channel is harmless.
  const onReady = () => {
    if (lost) void restore();
  };
  const messageEvent = sharded ? 'smessageBuffer' : 'messageBuffer';
  sub.on(messageEvent, onMessage);
  sub.on('close', onClose);
  sub.on('ready', onReady);

  // After a silence, Redis answered again: whatever was published meanwhile may be lost, so the
  // subscriptions are confirmed again and the listeners reload from the database, as after a drop.
  const livenessTimer = (options.livenessCheckMs ?? 1_000) > 0 ? setInterval(() => void checkLiveness(), options.livenessCheckMs ?? 1_000) : undefined;
  livenessTimer?.unref();
  let checking = false;
  async function checkLiveness(): Promise<void> {
    if (checking || closed || sub.status !== 'ready') return;
    checking = true;
    try {
      await withTimeout(options.livenessProbe ? options.livenessProbe() : sub.ping(), options.livenessTimeoutMs ?? 1_000);
      // A restore that failed is tried again here too: a Redis Cluster client emits no new
      // 'ready' when one shard comes back, so nothing else would retry it.
      if (silent || (lost && !restoring)) {
        silent = false;
        lost = true;
        void restore();
      }
    } catch {
      silent = true;
    } finally {
      checking = false;
    }
  }

  async function restore(): Promise<void> {
    const run = ++restoreRun;
    restoring = true;
    try {
      const keys = [...subscriptions.keys()];
      if (keys.length > 0) await sendSubscribe(keys);
    } catch (err) {
      // The connection dropped again (the next 'ready' or liveness check retries) or Redis
      // refused: either way the broker stays unhealthy until a restore succeeds.
      if (run === restoreRun && !closed) onError(err);
      return;
    } finally {
      if (run === restoreRun) restoring = false;
    }
    if (run !== restoreRun || closed || sub.status !== 'ready') return;
    lost = false;
    for (const listener of resubscribedListeners) {
      try {
        listener();
      } catch (err) {
        onError(err);
      }
    }
  }

  const assertOpen = () => {
    if (closed) throw new Error('bus: broker is closed');
  };

  return {
    async publish(channel, payload) {
      assertOpen();
      assertChannel(channel);
      assertPayload(payload);
      const key = prefix + channel;
      if (sharded) await pub.spublish(key, payload);
      else await pub.publish(key, payload);
    },

    async publishMany(messages) {
      assertOpen();
      for (const { channel, payload } of messages) {
        assertChannel(channel);
        assertPayload(payload);
      }
      if (messages.length === 0) return [];
      // This body runs at once, up to its first await: an explicit pipeline is written to the
      // socket inside exec() when the connection is up (queued while it is not). Cluster
      // pipelines must stay within one slot, so sharded mode sends each SPUBLISH on its own (a
      // Cluster client pipelines them per node itself).
      if (sharded) {
        return Promise.all(messages.map(({ channel, payload }) => pub.spublish(prefix + channel, payload).then(noError, asError)));
      }
      const pipeline = pub.pipeline();
      for (const { channel, payload } of messages) pipeline.publish(prefix + channel, payload);
      return pipeline.exec().then(
        (results) => messages.map((_, i) => (results?.[i]?.[0] ? asError(results[i]![0]) : undefined)),
        (err: unknown) => messages.map(() => asError(err)),
      );
    },

    async subscribe(channel, handler) {
      assertOpen();
      assertChannel(channel);
      assertHandler(handler);
      const key = prefix + channel;
      let subscription = subscriptions.get(key);
      if (!subscription) {
        subscription = { handlers: new Set(), confirmed: sendSubscribe([key]) };
        subscriptions.set(key, subscription);
      }
      subscription.handlers.add(handler);
      try {
        await subscription.confirmed;
      } catch (err) {
        if (subscriptions.get(key) === subscription) {
          subscription.handlers.delete(handler);
          if (subscription.handlers.size === 0) subscriptions.delete(key);
        }
        throw err;
      }
    },

    async unsubscribe(channel, handler) {
      const key = prefix + channel;
      const subscription = subscriptions.get(key);
      if (!subscription?.handlers.delete(handler)) return;
      if (subscription.handlers.size > 0) return;
      subscriptions.delete(key);
      // Sent right away, so a later subscribe() to the same channel queues its SUBSCRIBE behind
      // this UNSUBSCRIBE on the same connection and Redis applies them in that order.
      try {
        await sendUnsubscribe([key]);
      } catch (err) {
        // Delivery to the handler already stopped; a leftover Redis subscription only costs
        // ignored messages.
        onError(err);
      }
    },

    onResubscribed(listener) {
      if (typeof listener !== 'function') throw new TypeError('bus: listener must be a function');
      resubscribedListeners.add(listener);
      return () => {
        resubscribedListeners.delete(listener);
      };
    },

    isHealthy() {
      return !closed && !lost && !silent && sub.status === 'ready';
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(livenessTimer);
      sub.off(messageEvent, onMessage);
      sub.off('close', onClose);
      sub.off('ready', onReady);
      resubscribedListeners.clear();
      const keys = [...subscriptions.keys()];
      subscriptions.clear();
      // Only over a live connection: a queued UNSUBSCRIBE would hold close() until Redis returns.
      if (keys.length > 0 && sub.status === 'ready') {
        await sendUnsubscribe(keys).catch(onError);
      }
    },
  };
}

const noError = (): undefined => undefined;
const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function validate(options: RedisBrokerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createRedisBroker: options { pub, sub, prefix } are required');
  }
  const { pub, sub, prefix, sharded, onError } = options;
  if (typeof pub?.publish !== 'function') {
    throw new TypeError('createRedisBroker: `pub` must be an ioredis client');
  }
  if (typeof sub?.subscribe !== 'function') {
    throw new TypeError('createRedisBroker: `sub` must be an ioredis client');
  }
  if (pub === sub) {
    throw new TypeError(
      'createRedisBroker: `pub` and `sub` must be different connections ' +
        '(a RESP2 connection in subscriber mode cannot publish)',
    );
  }
  for (const [name, client] of [['pub', pub], ['sub', sub]] as const) {
    if (client.status === 'wait' || client.status === 'end') {
      throw new Error(
        `createRedisBroker: \`${name}\` is not connected (status "${client.status}"); ` +
          'pass a client that is connected or connecting',
      );
    }
  }
  if (typeof prefix !== 'string') {
    throw new TypeError('createRedisBroker: `prefix` must be a string (it may be empty)');
  }
  if (sharded !== undefined && typeof sharded !== 'boolean') {
    throw new TypeError('createRedisBroker: `sharded` must be a boolean');
  }
  assertOnError(onError);
}

/** Rejects when `promise` has not settled within `ms`; the promise itself is left to settle. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => {});
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
