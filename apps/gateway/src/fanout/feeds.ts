import { decodeBusMessage, roomChannel, type Broker } from '@im/bus';
import type { ChatReader } from '@im/db';
import type { Logger } from '@im/logger';
import { errorFields } from '../error-fields.ts';
import { ConversationFeed, type ConversationFeedOptions, type FeedRecipient } from './conversation-feed.ts';

export interface FeedsOptions {
  broker: Broker;
  source: Pick<ChatReader, 'head' | 'framesFromSeq' | 'lastSeqs'>;
  feed: Omit<ConversationFeedOptions, 'onError'>;
  logger: Logger;
  /** How long a conversation without sockets stays subscribed, so a reconnecting client finds it warm. */
  idleUnsubscribeMs: number;
  /** Called for each stored message from the bus with the ms since it was stored (fan-out latency). */
  onReceived?(latencyMs: number): void;
}

interface FeedEntry {
  feed: ConversationFeed;
  channel: string;
  subscribed: Promise<void>;
  idleTimer?: NodeJS.Timeout;
}

interface ChannelEntry {
  /** Feeds reading this channel: the last one to go unsubscribes it. */
  feeds: number;
  subscribed: Promise<void>;
}

/**
 * This gateway's conversation feeds: one per conversation with local sockets, each subscribed to
 * the channel its messages arrive on (one subscription per channel, never one per socket). Every
 * channel has the same handler: it decodes the bus header and hands the message to the feed of
 * the conversation the header names, so a channel may carry several conversations.
 */
export class Feeds {
  private readonly entries = new Map<string, FeedEntry>();
  private readonly channels = new Map<string, ChannelEntry>();
  /** Payloads this version could not read since the last warning (a rolling deploy sends many). */
  private undecodable = 0;
  private undecodableWarnedAt = 0;

  constructor(private readonly options: FeedsOptions) {}

  /** Adds the recipient to the conversation's feed, subscribing and starting the feed first if it is new here. */
  async join(recipient: FeedRecipient, conversation: string): Promise<ConversationFeed> {
    const entry = this.entryFor(conversation);
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    await entry.subscribed;
    entry.feed.recipients.add(recipient);
    return entry.feed;
  }

  leave(recipient: FeedRecipient, conversation: string): void {
    const entry = this.entries.get(conversation);
    if (!entry) return;
    entry.feed.recipients.delete(recipient);
    if (entry.feed.recipients.size > 0 || entry.idleTimer) return;
    entry.idleTimer = setTimeout(() => void this.drop(conversation), this.options.idleUnsubscribeMs);
    entry.idleTimer.unref();
  }

  /** A message this gateway just stored: delivered to local sockets without waiting for the bus. */
  acceptLocal(conversation: string, seq: number, id: number, bytes: Buffer): void {
    this.entries.get(conversation)?.feed.accept(seq, id, bytes);
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

  /** The one handler of every channel. The payload buffer is ours (one per message), so slices need no copy. */
  private readonly onPayload = (payload: Buffer): void => {
    const message = decodeBusMessage(payload);
    if (!message) return this.ignore(payload);
    const feed = this.entries.get(message.conversation)?.feed;
    if (!feed) return;
    if (message.kind === 'transient') return feed.broadcast(message.frame);
    this.options.onReceived?.(Date.now() - message.storedAtMs);
    feed.accept(message.seq, message.id, message.frame);
  };

  /** Logs an unreadable payload (at most every 10 s, with a count); the periodic MySQL check delivers it if it was a message. */
  private ignore(payload: Buffer): void {
    this.undecodable += 1;
    if (Date.now() - this.undecodableWarnedAt < 10_000) return;
    this.options.logger.warn({ ignored: this.undecodable, head: payload.toString('latin1', 0, 8) }, 'undecodable bus payload ignored');
    this.undecodable = 0;
    this.undecodableWarnedAt = Date.now();
  }

  private entryFor(conversation: string): FeedEntry {
    const existing = this.entries.get(conversation);
    if (existing) return existing;

    const { logger } = this.options;
    const feed = new ConversationFeed(conversation, this.options.source, {
      ...this.options.feed,
      onError: (err) => logger.error({ err: errorFields(err), room: conversation }, 'room resync failed'),
    });
    // Part 1 conversations each have their room channel; the feed starts once it is subscribed.
    const channel = roomChannel(conversation);
    const entry: FeedEntry = { feed, channel, subscribed: this.subscribe(channel).then(() => feed.start()) };
    entry.subscribed.catch((err) => {
      // Forget the conversation so the next join retries the subscription.
      if (this.entries.get(conversation) === entry) {
        this.entries.delete(conversation);
        void this.unsubscribe(channel);
      }
      logger.error({ err: errorFields(err), room: conversation }, 'room subscribe failed');
    });
    this.entries.set(conversation, entry);
    return entry;
  }

  private async drop(conversation: string): Promise<void> {
    const entry = this.entries.get(conversation);
    if (!entry || entry.feed.recipients.size > 0) return;
    this.entries.delete(conversation);
    clearTimeout(entry.idleTimer);
    entry.feed.close();
    await this.unsubscribe(entry.channel);
  }

  private subscribe(channel: string): Promise<void> {
    let entry = this.channels.get(channel);
    if (!entry) {
      const created: ChannelEntry = { feeds: 0, subscribed: this.options.broker.subscribe(channel, this.onPayload) };
      created.subscribed.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
      });
      this.channels.set(channel, (entry = created));
    }
    entry.feeds += 1;
    return entry.subscribed;
  }

  private async unsubscribe(channel: string): Promise<void> {
    const entry = this.channels.get(channel);
    if (!entry || --entry.feeds > 0) return;
    this.channels.delete(channel);
    await this.options.broker.unsubscribe(channel, this.onPayload).catch(() => {});
  }
}
