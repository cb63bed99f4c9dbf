import type { Broker } from '@im/bus';
import type { Logger } from '@im/logger';
import type { Connection } from '../connections/connection.ts';
import { RoomFeed, type RoomFeedOptions, type RoomFeedSource } from './room-feed.ts';
import { decodeWire } from './wire.ts';

/** The Redis channel of a room. The braces are a hash tag, ready for sharded pub/sub. */
export function roomChannel(room: string): string {
  return `room:{${room}}`;
}

export interface RoomsOptions {
  broker: Broker;
  source: RoomFeedSource;
  feed: Omit<RoomFeedOptions, 'onError'>;
  logger: Logger;
  /** How long an empty room stays subscribed, so a reconnecting client finds it warm. */
  idleUnsubscribeMs: number;
  /** Called for each message from Redis with the ms since it was stored (fan-out latency). */
  onReceived?(latencyMs: number): void;
}

interface RoomEntry {
  feed: RoomFeed;
  handler: (payload: Buffer) => void;
  subscribed: Promise<void>;
  idleTimer?: NodeJS.Timeout;
}

/**
 * This gateway's rooms: one Redis subscription per room with local sockets (never one per
 * socket), and one RoomFeed that orders the room's messages for those sockets.
 */
export class Rooms {
  private readonly entries = new Map<string, RoomEntry>();

  constructor(private readonly options: RoomsOptions) {}

  /** Adds the connection to its room, subscribing the room first if it is new here. */
  async join(connection: Connection): Promise<RoomFeed> {
    const entry = this.entryFor(connection.room);
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    await entry.subscribed;
    entry.feed.connections.add(connection);
    return entry.feed;
  }

  leave(connection: Connection): void {
    const entry = this.entries.get(connection.room);
    if (!entry) return;
    entry.feed.connections.delete(connection);
    if (entry.feed.connections.size > 0 || entry.idleTimer) return;
    entry.idleTimer = setTimeout(() => this.drop(connection.room), this.options.idleUnsubscribeMs);
    entry.idleTimer.unref();
  }

  /** A message this gateway just stored: delivered locally without waiting for Redis. */
  acceptLocal(room: string, seq: number, bytes: Buffer): void {
    this.entries.get(room)?.feed.accept(seq, bytes);
  }

  feed(room: string): RoomFeed | undefined {
    return this.entries.get(room)?.feed;
  }

  *allConnections(): Generator<Connection> {
    for (const entry of this.entries.values()) yield* entry.feed.connections;
  }

  /** Reads what may have been missed from MySQL, for every room (after a Redis outage). */
  async resyncAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => entry.feed.resync()));
  }

  /**
   * The periodic check for messages whose publish never arrived (a gateway that died between
   * storing and publishing): one query for the rooms' latest seqs, then a resync only of the
   * rooms that are behind — cheap with thousands of private rooms.
   */
  async resyncLagging(): Promise<void> {
    const rooms = [...this.entries.keys()];
    for (let i = 0; i < rooms.length; i += 1_000) {
      const chunk = rooms.slice(i, i + 1_000);
      const stored = await this.options.source.lastSeqs(chunk);
      for (const room of chunk) {
        const feed = this.entries.get(room)?.feed;
        const last = stored.get(room);
        if (feed && last !== undefined && feed.isBehind(last)) void feed.resync();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((room) => this.drop(room)));
  }

  private entryFor(room: string): RoomEntry {
    const existing = this.entries.get(room);
    if (existing) return existing;

    const { logger } = this.options;
    const feed = new RoomFeed(room, this.options.source, {
      ...this.options.feed,
      onError: (err) => logger.error({ err: errorFields(err), room: room }, 'room resync failed'),
    });
    const handler = (payload: Buffer) => {
      const wire = decodeWire(payload);
      if (!wire) return logger.warn({ room: room }, 'undecodable bus payload');
      // The payload buffer is ours (ioredis allocates one per message), so slices need no copy.
      if (wire.kind === 'transient') feed.broadcast(wire.frame);
      else {
        this.options.onReceived?.(Date.now() - wire.storedAtMs);
        feed.accept(wire.seq, wire.frame);
      }
    };
    const entry: RoomEntry = {
      feed,
      handler,
      subscribed: this.options.broker.subscribe(roomChannel(room), handler).then(() => feed.start()),
    };
    entry.subscribed.catch((err) => {
      // Forget the room so the next join retries the subscription.
      if (this.entries.get(room) === entry) this.entries.delete(room);
      logger.error({ err: errorFields(err), room: room }, 'room subscribe failed');
    });
    this.entries.set(room, entry);
    return entry;
  }

  private async drop(room: string): Promise<void> {
    const entry = this.entries.get(room);
    if (!entry || entry.feed.connections.size > 0) return;
    this.entries.delete(room);
    clearTimeout(entry.idleTimer);
    entry.feed.close();
    await this.options.broker.unsubscribe(roomChannel(room), entry.handler).catch(() => {});
  }
}

/** Private room keys hold user ids, which are fine to log; kept in one place in case that changes. */
function safeRoom(room: string): string {
  return room;
}

export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { name: err.name, message: err.message } : { value: String(err) };
}
