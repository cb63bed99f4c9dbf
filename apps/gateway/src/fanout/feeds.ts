import { decodeBusMessage, roomChannel, userChannel, type Broker, type MessageHandler } from '@im/bus';
import type { ChatReader } from '@im/db';
import type { Logger } from '@im/logger';
import { isPrivateConversation, parseConversation } from '@im/protocol';
import { errorFields } from '../error-fields.ts';
import { Channels } from './channels.ts';
import { HeadBatcher } from './head-batcher.ts';
import { ConversationFeed, type ConversationFeedOptions, type FeedRecipient } from './conversation-feed.ts';
import { skippedUserOf } from './skipped-user.ts';

/** What the `/api/chat` sockets of this gateway (see devices/) need to hear from the feeds. */
export interface DeviceHooks {
  /** Whether `userId` has an `/api/chat` socket here (a private message to them makes a feed). */
  follows(userId: string): boolean;
  /** A feed was just made, before any delivery: the participants' `/api/chat` sockets join it now. */
  feedCreated(conversation: string, feed: ConversationFeed): void;
  /** A transient frame on a user's channel (room event, typing, receipt): for that user's sockets. */
  userTransient(userId: string, conversation: string, frame: Buffer): void;
}

export interface FeedsOptions {
  broker: Broker;
  source: Pick<ChatReader, 'heads' | 'framesFromSeq' | 'lastSeqs'>;
  feed: Omit<ConversationFeedOptions, 'onError'>;
  logger: Logger;
  /** How long a conversation without sockets stays subscribed, so a reconnecting client finds it warm. */
  idleUnsubscribeMs: number;
  /** Called for each stored message from the bus with the ms since it was stored (fan-out latency). */
  onReceived?(latencyMs: number): void;
}

interface FeedEntry {
  feed: ConversationFeed;
  /** The channels this feed holds (its messages may arrive on any of them). */
  channels: Set<string>;
  subscribed: Promise<void>;
  idleTimer?: NodeJS.Timeout;
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
  private readonly privateByUser = new Map<string, Set<string>>();
  private devices: DeviceHooks | undefined;
  /** Payloads this version could not read since the last warning (a rolling deploy sends many). */
  private undecodable = 0;
  private undecodableWarnedAt = 0;

  constructor(private readonly options: FeedsOptions) {
    this.channels = new Channels(options.broker, (channel) => this.handlerFor(channel));
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
    return [...(this.privateByUser.get(userId) ?? [])];
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

  /**
   * The periodic check for messages whose publish never arrived (a gateway that died between
   * storing and publishing, a payload this version could not read): one query for the latest
   * seqs, then a resync only of the feeds that are behind — cheap with thousands of private chats.
   */
  async resyncLagging(): Promise<void> {
    const conversations = [...this.entries.keys()];
    for (let i = 0; i < conversations.length; i += 1_000) {
      const chunk = conversations.slice(i, i + 1_000);
      const stored = await this.options.source.lastSeqs(chunk);
      for (const conversation of chunk) {
        const feed = this.entries.get(conversation)?.feed;
        const last = stored.get(conversation);
        if (feed && last !== undefined && feed.isBehind(last)) void feed.resync();
      }
    }
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
    if (!message) return this.ignore(payload);
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
    if (!message) return this.ignore(payload);
    if (message.kind === 'transient') return this.devices?.userTransient(userId, message.conversation, message.frame);
    const feed = this.entries.get(message.conversation)?.feed ?? this.adoptPrivate(message.conversation, userId, message.seq);
    if (!feed) return;
    this.options.onReceived?.(Date.now() - message.storedAtMs);
    feed.accept(message.seq, message.id, message.frame);
  }

  /**
   * A feed made for a private message that arrived with no feed here, when one of its users has an
   * `/api/chat` socket here. It starts at that message: nothing before it was delivered live here.
   * It holds the user channel the message came on (the other one's, for a local send).
   */
  private adoptPrivate(conversation: string, channelUser: string | undefined, seq: number): ConversationFeed | undefined {
    const parsed = parseConversation(conversation);
    if (!this.devices || parsed?.kind !== 'private') return undefined;
    const user = channelUser ?? parsed.userIds.find((id) => this.devices!.follows(id));
    if (user === undefined || !this.devices.follows(user)) return undefined;
    const channel = userChannel(user);
    const entry = this.newEntry(conversation, new Set([channel]), this.channels.hold(channel));
    entry.feed.startAt(seq);
    this.idleUnlessUsed(conversation, entry);
    return entry.feed;
  }

  /** Logs an unreadable payload (at most every 10 s, with a count); the periodic MySQL check delivers it if it was a message. */
  private ignore(payload: Buffer): void {
    this.undecodable += 1;
    if (Date.now() - this.undecodableWarnedAt < 10_000) return;
    this.options.logger.warn({ ignored: this.undecodable, head: payload.toString('latin1', 0, 8) }, 'undecodable bus payload ignored');
    this.undecodable = 0;
    this.undecodableWarnedAt = Date.now();
  }

  private entryFor(conversation: string, channels: readonly string[]): FeedEntry {
    const existing = this.entries.get(conversation);
    if (existing) {
      const missing = channels.filter((channel) => !existing.channels.has(channel));
      for (const channel of missing) existing.channels.add(channel);
      // A channel added later (a Part 1 socket joining a feed an `/api/chat` socket made): the feed runs already.
      if (missing.length > 0) existing.subscribed = Promise.all([existing.subscribed, ...missing.map((c) => this.channels.hold(c))]).then(() => {});
      return existing;
    }
    const held = Promise.all(channels.map((channel) => this.channels.hold(channel)));
    const entry = this.newEntry(conversation, new Set(channels), held);
    // The feed starts once its channels are subscribed: every later message arrives or is found by a resync.
    entry.subscribed = held.then(() => entry.feed.start());
    entry.subscribed.catch((err) => {
      // Forget the conversation so the next join retries the subscription.
      if (this.entries.get(conversation) === entry) void this.drop(conversation, true);
      this.options.logger.error({ err: errorFields(err), room: conversation }, 'room subscribe failed');
    });
    return entry;
  }

  private newEntry(conversation: string, channels: Set<string>, held: Promise<unknown>): FeedEntry {
    const { logger } = this.options;
    const feed = new ConversationFeed(conversation, this.source, {
      ...this.options.feed,
      onError: (err) => logger.error({ err: errorFields(err), room: conversation }, 'room resync failed'),
    });
    const entry: FeedEntry = { feed, channels, subscribed: held.then(() => {}) };
    this.entries.set(conversation, entry);
    this.indexPrivate(conversation, true);
    if (isPrivateConversation(conversation)) this.devices?.feedCreated(conversation, feed);
    return entry;
  }

  private indexPrivate(conversation: string, add: boolean): void {
    const parsed = parseConversation(conversation);
    if (parsed?.kind !== 'private') return;
    for (const user of parsed.userIds) {
      const set = this.privateByUser.get(user);
      if (add) this.privateByUser.set(user, (set ?? new Set<string>()).add(conversation));
      else if (set?.delete(conversation) && set.size === 0) this.privateByUser.delete(user);
    }
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
    this.indexPrivate(conversation, false);
    clearTimeout(entry.idleTimer);
    entry.feed.close();
    await Promise.all([...entry.channels].map((channel) => this.channels.release(channel)));
  }
}

/**
 * The channels a Part 1 socket's feed holds: the conversation's room channel (its transient
 * frames: presence, file progress) and, in a private chat, the user's own channel, where its
 * stored messages travel (see Publisher).
 */
export function part1Channels(conversation: string, userId: string): string[] {
  return isPrivateConversation(conversation) ? [roomChannel(conversation), userChannel(userId)] : [roomChannel(conversation)];
}
