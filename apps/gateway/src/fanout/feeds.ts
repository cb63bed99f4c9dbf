import { decodeBusMessage, roomChannel, userChannel, type Broker, type MessageHandler } from '@im/bus';
import type { ChatReader } from '@im/db';
import type { Logger } from '@im/logger';
import { isPrivateConversation, parseConversation } from '@im/protocol';
import { errorFields } from '../error-fields.ts';
import { Channels } from './channels.ts';
import type { DeviceHooks } from './device-hooks.ts';
import { PrivateFeedIndex } from './private-feed-index.ts';
import { UndecodablePayloads } from './undecodable-payloads.ts';
import { HeadBatcher } from './head-batcher.ts';
import { ConversationFeed, type ConversationFeedOptions, type FeedRecipient } from './conversation-feed.ts';
import { skippedUserOf } from './skipped-user.ts';

export interface FeedsOptions {
  broker: Broker;
  source: Pick<ChatReader, 'heads' | 'framesFromSeq' | 'firstSeqAfterId'>;
  /** An id stored a few seconds ago (TailCheck's scan floor): how far back a new private feed looks. */
  lookBackFloor?(): number | undefined;
  feed: Omit<ConversationFeedOptions, 'onError'>;
  logger: Logger;
  /** How long a conversation without sockets stays subscribed, so a reconnecting client finds it warm. */
  idleUnsubscribeMs: number;
  /** Called for each stored message from the bus with the ms since it was stored (fan-out latency). */
  onReceived?(latencyMs: number): void;
}

interface FeedEntry {
  feed: ConversationFeed;
  /** The channels this feed holds (its messages may arrive on any of them): one or two, so an array. */
  channels: string[];
  subscribed: Promise<void>;
  idleTimer: NodeJS.Timeout | undefined;
}

const USER_CHANNEL = /^user:\{(.+)\}$/;

/**
 * This gateway's conversation feeds: one per conversation with local sockets, each holding the
 * channels its messages arrive on (one subscription per channel, never one per socket). Room
 * channels carry a conversation's stored messages and transient frames; a user's channel carries
 * their private messages (a private message is published on both users' channels) and what is
 * meant for them alone. The bus header names the conversation, so a channel may carry several.
 */
export class Feeds {
  private readonly entries = new Map<string, FeedEntry>();
  private readonly channels: Channels;
  /** Feeds read where they start through this, batched (a socket joining 500 rooms starts 500 feeds). */
  private readonly source: Pick<ChatReader, 'head' | 'framesFromSeq'>;
  /** Private feeds by participant, for an `/api/chat` socket that opens after they were made. */
  private readonly privateByUser = new PrivateFeedIndex();
  private devices: DeviceHooks | undefined;
  private readonly undecodable: UndecodablePayloads;
  private readonly feedOptions: ConversationFeedOptions;

  constructor(private readonly options: FeedsOptions) {
    const { logger } = options;
    this.feedOptions = {
      ...options.feed,
      onError: (err, conversation) => logger.error({ err: errorFields(err), room: conversation }, 'room resync failed'),
    };
    this.channels = new Channels(options.broker, (channel) => this.handlerFor(channel));
    this.undecodable = new UndecodablePayloads(options.logger);
    this.source = { head: new HeadBatcher(options.source).head, framesFromSeq: (...args) => options.source.framesFromSeq(...args) };
  }

  /** Wires the `/api/chat` side (made after the feeds). */
  attachDevices(devices: DeviceHooks): void {
    this.devices = devices;
  }

  /**
   * Adds the recipient to the conversation's feed, subscribing `channels` and starting the feed
   * first if they are new here. Part 1 sockets use the default; see `part1Channels`.
   */
  async join(recipient: FeedRecipient, conversation: string, channels: readonly string[] = [roomChannel(conversation)]): Promise<ConversationFeed> {
    const entry = this.entryFor(conversation, channels);
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    await entry.subscribed;
    entry.feed.recipients.add(recipient);
    return entry.feed;
  }

  /**
   * Adds a recipient to a feed that exists here, at once (no subscription to wait for): an
   * `/api/chat` socket joining a private feed made before it opened, or as it is made.
   */
  attach(recipient: FeedRecipient, conversation: string): void {
    const entry = this.entries.get(conversation);
    if (!entry) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.feed.recipients.add(recipient);
  }

  leave(recipient: FeedRecipient, conversation: string): void {
    const entry = this.entries.get(conversation);
    if (!entry) return;
    entry.feed.recipients.delete(recipient);
    this.idleUnlessUsed(conversation, entry);
  }

  /** A feed nobody is in stays subscribed a while (a reconnecting client finds it warm), then goes. */
  private idleUnlessUsed(conversation: string, entry: FeedEntry): void {
    if (entry.feed.recipients.size > 0 || entry.idleTimer) return;
    entry.idleTimer = setTimeout(() => void this.drop(conversation), this.options.idleUnsubscribeMs);
    entry.idleTimer.unref();
  }

  /** Takes or lets go of a hold on a channel outside any feed (a user's channel, for their `/api/chat` sockets). */
  hold(channel: string): Promise<void> {
    return this.channels.hold(channel);
  }

  release(channel: string): Promise<void> {
    return this.channels.release(channel);
  }

  /** Whether this gateway subscribes the channel. */
  subscribes(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** The private conversations with a feed here that `userId` is part of. */
  privateFeedsOf(userId: string): string[] {
    return this.privateByUser.of(userId);
  }

  /** A message this gateway just stored: delivered to local sockets without waiting for the bus. */
  acceptLocal(conversation: string, seq: number, id: number, bytes: Buffer): void {
    const feed = this.entries.get(conversation)?.feed ?? this.adoptPrivate(conversation, undefined, seq);
    feed?.accept(seq, id, bytes);
  }

  feed(conversation: string): ConversationFeed | undefined {
    return this.entries.get(conversation)?.feed;
  }

  /** Reads what may have been missed from MySQL, for every feed (after a Redis outage). */
  async resyncAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => entry.feed.resync()));
  }

  /** The conversations with a feed here (the periodic MySQL check walks them). */
  conversations(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * A feed for a private message stored with no publish seen here (its gateway died in between),
   * starting at that message, when one of its users has an `/api/chat` socket here; undefined
   * otherwise. The feed then reads the message from MySQL (see TailCheck).
   */
  adoptStoredPrivate(conversation: string, seq: number): ConversationFeed | undefined {
    return this.entries.has(conversation) ? undefined : this.adoptPrivate(conversation, undefined, seq);
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((conversation) => this.drop(conversation)));
  }

  private handlerFor(channel: string): MessageHandler {
    const user = USER_CHANNEL.exec(channel)?.[1];
    return user === undefined ? this.onPayload : (payload) => this.onUserPayload(user, payload);
  }

  /** A room channel's payloads. The payload buffer is ours (one per message), so slices need no copy. */
  private readonly onPayload = (payload: Buffer): void => {
    const message = decodeBusMessage(payload);
    if (!message) return this.undecodable.ignore(payload);
    const feed = this.entries.get(message.conversation)?.feed;
    if (!feed) return;
    if (message.kind === 'transient') return feed.broadcast(message.frame, skippedUserOf(message.conversation, message.frame));
    this.options.onReceived?.(Date.now() - message.storedAtMs);
    feed.accept(message.seq, message.id, message.frame);
  };

  /**
   * A user's channel: their private messages go to the conversation's feed, made here on the
   * first message when the user has an `/api/chat` socket (a stranger's first message); frames
   * meant for the user alone go to their sockets.
   */
  private onUserPayload(userId: string, payload: Buffer): void {
    const message = decodeBusMessage(payload);
    if (!message) return this.undecodable.ignore(payload);
    if (message.kind === 'transient') return this.devices?.userTransient(userId, message.conversation, message.frame);
    const feed = this.entries.get(message.conversation)?.feed ?? this.adoptPrivate(message.conversation, userId, message.seq);
    if (!feed) return;
    this.options.onReceived?.(Date.now() - message.storedAtMs);
    feed.accept(message.seq, message.id, message.frame);
  }

  /**
   * A feed made for a private message that arrived with no feed here, when one of its users has an
   * `/api/chat` socket here. Nothing of the chat was delivered here before, so it starts at that
   * message, or at an earlier one stored in the last seconds and never published (its gateway
   * died in between; a resend of it is answered to the sender alone), read from MySQL first.
   * It holds the user channel the message came on (the other one's, for a local send).
   */
  private adoptPrivate(conversation: string, channelUser: string | undefined, seq: number): ConversationFeed | undefined {
    const parsed = parseConversation(conversation);
    if (!this.devices || parsed?.kind !== 'private') return undefined;
    const user = channelUser ?? parsed.userIds.find((id) => this.devices!.follows(id));
    if (user === undefined || !this.devices.follows(user)) return undefined;
    const channel = userChannel(user);
    const held = this.channels.hold(channel);
    const entry = this.newEntry(conversation, [this.channels.shared(channel)], held);
    const floor = this.options.lookBackFloor?.();
    if (seq > 1 && floor !== undefined) entry.feed.startAtOrBefore(seq, this.options.source.firstSeqAfterId(conversation, floor, seq));
    else entry.feed.startAt(seq);
    this.idleUnlessUsed(conversation, entry);
    return entry.feed;
  }

  private entryFor(conversation: string, channels: readonly string[]): FeedEntry {
    const existing = this.entries.get(conversation);
    if (existing) {
      const missing = channels.filter((channel) => !existing.channels.includes(channel));
      if (missing.length === 0) return existing;
      // A channel added later (a Part 1 socket joining a feed an `/api/chat` socket made): the feed runs already.
      existing.subscribed = Promise.all([existing.subscribed, ...missing.map((c) => this.channels.hold(c))]).then(() => {});
      // concat() makes an array of the exact size: push() or a spread would leave room for 16 more.
      existing.channels = existing.channels.concat(missing.map((c) => this.channels.shared(c)));
      return existing;
    }
    const held = Promise.all(channels.map((channel) => this.channels.hold(channel)));
    const entry = this.newEntry(conversation, channels.map((c) => this.channels.shared(c)), held);
    // The feed starts once its channels are subscribed: every later message arrives or is found by a resync.
    entry.subscribed = held.then(() => entry.feed.start());
    entry.subscribed.catch((err) => {
      // Forget the conversation so the next join retries the subscription.
      if (this.entries.get(conversation) === entry) void this.drop(conversation, true);
      this.options.logger.error({ err: errorFields(err), room: conversation }, 'room subscribe failed');
    });
    return entry;
  }

  private newEntry(conversation: string, channels: string[], held: Promise<unknown>): FeedEntry {
    const feed = new ConversationFeed(conversation, this.source, this.feedOptions);
    const entry: FeedEntry = { feed, channels, subscribed: held.then(() => {}), idleTimer: undefined };
    this.entries.set(conversation, entry);
    this.privateByUser.add(conversation);
    if (isPrivateConversation(conversation)) this.devices?.feedCreated(conversation, feed);
    return entry;
  }

  private async drop(conversation: string, failed = false): Promise<void> {
    const entry = this.entries.get(conversation);
    if (!entry) return;
    if (!failed && entry.feed.recipients.size > 0) {
      // Someone came back meanwhile: the next leave starts a new idle wait.
      entry.idleTimer = undefined;
      return;
    }
    this.entries.delete(conversation);
    this.privateByUser.remove(conversation);
    clearTimeout(entry.idleTimer);
    entry.feed.close();
    await Promise.all(entry.channels.map((channel) => this.channels.release(channel)));
  }
}
