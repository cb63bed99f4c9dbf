import { roomChannel, userChannel, type Broker, type MessageHandler } from '@im/bus';
import { isPrivateConversation } from '@im/protocol';

interface ChannelEntry {
  /** The channel's name: the one copy the feeds holding it keep too. */
  name: string;
  /** Feeds and users holding this channel: the last one to let go unsubscribes it. */
  holders: number;
  subscribed: Promise<void>;
  handler: MessageHandler;
}

/**
 * This gateway's bus subscriptions, counted: one Redis subscription per channel however many
 * feeds and users of this gateway hold it, dropped when the last one lets go.
 */
export class Channels {
  private readonly entries = new Map<string, ChannelEntry>();

  constructor(
    private readonly broker: Pick<Broker, 'subscribe' | 'unsubscribe'>,
    /** The one handler of a channel, made when it is first subscribed. */
    private readonly handlerFor: (channel: string) => MessageHandler,
  ) {}

  /** Takes a hold on the channel; resolves once Redis confirmed the subscription. */
  hold(channel: string): Promise<void> {
    let entry = this.entries.get(channel);
    if (!entry) {
      const handler = this.handlerFor(channel);
      const created: ChannelEntry = { name: channel, holders: 0, handler, subscribed: this.broker.subscribe(channel, handler) };
      created.subscribed.catch(() => {
        if (this.entries.get(channel) === created) this.entries.delete(channel);
      });
      this.entries.set(channel, (entry = created));
    }
    entry.holders += 1;
    return entry.subscribed;
  }

  /**
   * The copy of a held channel's name kept here, for holders that keep the name as long (a user
   * channel's name is made anew for each of their sockets' conversations).
   */
  shared(channel: string): string {
    return this.entries.get(channel)?.name ?? channel;
  }

  async release(channel: string): Promise<void> {
    const entry = this.entries.get(channel);
    if (!entry || --entry.holders > 0) return;
    this.entries.delete(channel);
    await this.broker.unsubscribe(channel, entry.handler).catch(() => {});
  }

  /** Whether this gateway subscribes the channel (tests and metrics). */
  has(channel: string): boolean {
    return this.entries.has(channel);
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
