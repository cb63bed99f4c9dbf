import { encodeStored, encodeTransient, roomChannel, userChannel, type Broker, type OutgoingMessage } from '@im/bus';
import { parseConversation } from '@im/protocol';
import type { Feeds } from './feeds.ts';

export interface PublisherOptions {
  broker: Broker;
  /** Where this gateway's own stored messages are delivered locally. */
  feeds: Pick<Feeds, 'acceptLocal'>;
  /**
   * A publish Redis did not accept. A stored message is not lost (other gateways read it from
   * MySQL on their next check); a transient frame is, and its caller is told.
   */
  onPublishFailed(err: Error, conversation: string): void;
  /** Counts the publishes of each flush by what they carry (metrics: publishes per message). */
  onPublishing?(kind: PublishKind, count: number): void;
}

export type PublishKind = 'message' | 'transient';

/** The stored message's place and time, as the writer answered. */
export interface StoredPlace {
  seq: number;
  id: number;
  storedAtMs: number;
}

interface Outgoing extends OutgoingMessage {
  conversation: string;
  kind: PublishKind;
  /** Stored messages: delivered locally after the publish; resolved then. */
  stored?: { seq: number; id: number; frameJson: string; delivered(): void };
  /** Transient frames: resolved with whether Redis accepted the publish. */
  published?(accepted: boolean): void;
}

/**
 * The gateway's one way onto the bus: channel names and the wire header are chosen here, for
 * stored messages and for transient frames (presence notices, file progress; later typing and
 * receipts).
 *
 * Order, made explicit: what is handed over within one turn of the event loop is published in
 * one write to Redis (`publishMany`), and only then are the stored messages among it delivered to
 * this gateway's own sockets. The other gateways fan out while this one writes to its sockets
 * (a big room's local loop is thousands of writes; publishing after it held every remote
 * recipient back), and one write per turn keeps a batch of messages at one system call.
 * Publishes are never awaited before local delivery: while Redis is away they wait out
 * reconnects, and local sockets must not wait with them.
 */
export class Publisher {
  private pending: Outgoing[] = [];
  private scheduled = false;

  constructor(private readonly options: PublisherOptions) {}

  /**
   * A message this gateway just stored. Resolves once it was published and delivered to local
   * sockets, so a socket's next frame waits for it and a sender's messages keep their order here.
   */
  stored(conversation: string, place: StoredPlace, frameJson: string): Promise<void> {
    const payload = encodeStored(conversation, place.seq, place.id, place.storedAtMs, frameJson);
    const [first, ...more] = storedChannels(conversation);
    return new Promise((delivered) => {
      this.enqueue({ conversation, kind: 'message', channel: first!, payload, stored: { seq: place.seq, id: place.id, frameJson, delivered } });
      for (const channel of more) this.enqueue({ conversation, kind: 'message', channel, payload });
    });
  }

  /**
   * A frame that is not stored, on the conversation's room channel unless `channels` says
   * otherwise. Local sockets get it back through the subscription, like every other gateway's.
   * Resolves with whether Redis accepted every publish (failures are reported here).
   */
  async transient(conversation: string, frameJson: string, channels: readonly string[] = [roomChannel(conversation)]): Promise<boolean> {
    const payload = encodeTransient(conversation, frameJson);
    const results = await Promise.all(
      channels.map((channel) => new Promise<boolean>((published) => this.enqueue({ conversation, kind: 'transient', channel, payload, published }))),
    );
    return results.every(Boolean);
  }

  private enqueue(outgoing: Outgoing): void {
    this.pending.push(outgoing);
    if (this.scheduled) return;
    this.scheduled = true;
    // Gathers what this turn's I/O callbacks hand over (a writer batch resolves many messages at once).
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    this.count(batch);
    // 1. Publish: the write happens inside this call when Redis is connected.
    const results = this.options.broker.publishMany(batch).catch((err: unknown) => batch.map(() => err as Error));
    // 2. Deliver locally, in the order the messages were handed over.
    for (const { conversation, stored } of batch) {
      if (!stored) continue;
      this.options.feeds.acceptLocal(conversation, stored.seq, stored.id, Buffer.from(stored.frameJson));
      stored.delivered();
    }
    // 3. Account for what Redis refused.
    void results.then((errors) => {
      batch.forEach(({ conversation, published }, i) => {
        const err = errors[i];
        if (err) this.options.onPublishFailed(err, conversation);
        published?.(err === undefined);
      });
    });
  };

  private count(batch: Outgoing[]): void {
    if (!this.options.onPublishing) return;
    const messages = batch.filter((outgoing) => outgoing.kind === 'message').length;
    if (messages > 0) this.options.onPublishing('message', messages);
    if (batch.length > messages) this.options.onPublishing('transient', batch.length - messages);
  }
}

/**
 * Where a stored message is published, once per channel: a room's (and the group's) on its room
 * channel, one publish whatever its size; a private one on both users' channels, two publishes,
 * which reach every socket of either user on every gateway, a stranger's first message included.
 */
function storedChannels(conversation: string): string[] {
  const parsed = parseConversation(conversation);
  return parsed?.kind === 'private' ? parsed.userIds.map(userChannel) : [roomChannel(conversation)];
}
