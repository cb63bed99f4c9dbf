/**
 * Receives the payload of one message published on a channel this process subscribed to.
 *
 * The same Buffer is handed to every handler of the channel in this process, so handlers must
 * not mutate it. Handlers run synchronously, one after another, in the order they subscribed;
 * a handler that throws is reported through the broker's `onError` and the others still run.
 */
export type MessageHandler = (payload: Buffer) => void;

/** One message for `publishMany`. */
export interface OutgoingMessage {
  channel: string;
  payload: Buffer | string;
}

/**
 * Fan-out between processes: what one gateway publishes on a channel reaches every handler
 * subscribed to that channel in every process (including the publisher's own, if it subscribed).
 *
 * Delivery is at-most-once and best effort, like Redis pub/sub itself: a process that is not
 * subscribed, or whose connection is down, when a message is published never sees it. That is
 * why `onResubscribed` exists: the database stays the source of truth and callers catch up from
 * it after a gap.
 *
 * Ordering: messages published by one process on one channel arrive in publish order. There is
 * no order between channels, nor between publishers.
 *
 * Delivery is always asynchronous: `publish` never calls a handler before it returns.
 */
export interface Broker {
  /**
   * Sends `payload` to every subscriber of `channel` in the cluster: exactly one PUBLISH (or
   * SPUBLISH) per call, never batched or retried, so a resolved promise means Redis accepted the
   * message. Strings are sent as UTF-8; handlers always receive a Buffer.
   */
  publish(channel: string, payload: Buffer | string): Promise<void>;

  /**
   * Publishes several messages, in this order, handing them to Redis in one write when it is
   * connected (a single PUBLISH each, as `publish`): a gateway that stored a batch of messages
   * pays one system call for their publishes, and knows they are on their way when this returns
   * (before its promise settles), so it can deliver locally next. Resolves with one entry per
   * message, `undefined` when Redis accepted it or the error; it never rejects for a single
   * message (it throws for bad arguments or a closed broker).
   */
  publishMany(messages: readonly OutgoingMessage[]): Promise<Array<Error | undefined>>;

  /**
   * Calls `handler` for every message on `channel` from now on. Resolves once Redis has
   * confirmed the subscription, so anything published after that is delivered.
   *
   * All handlers of one channel in one process share a single Redis subscription, counted by
   * handler: the first handler subscribes, later ones only join. Subscribing the same function
   * twice to one channel registers it once. Channels are exact names; there are no patterns.
   *
   * Rejects (and registers nothing) when Redis refuses the subscription.
   */
  subscribe(channel: string, handler: MessageHandler): Promise<void>;

  /**
   * Stops calling `handler` for `channel`, at once: a message already on its way is dropped.
   * When the channel's last handler goes, so does the Redis subscription. Unknown pairs are a
   * no-op.
   */
  unsubscribe(channel: string, handler: MessageHandler): Promise<void>;

  /**
   * Registers `listener`, called each time the subscriber connection was lost and every
   * subscription has been confirmed again. Messages published during the gap may be lost, so
   * the listener should reload recent state from the database (e.g. messages after the last id
   * it delivered). Returns a function that unregisters it.
   */
  onResubscribed(listener: () => void): () => void;

  /** True while the subscriber connection is up and its subscriptions are in place (/readyz). */
  isHealthy(): boolean;

  /**
   * Drops this broker's subscriptions and listeners. Connections are the caller's: they are
   * left open. Afterwards every method except `close` and `isHealthy` rejects or throws.
   */
  close(): Promise<void>;
}
