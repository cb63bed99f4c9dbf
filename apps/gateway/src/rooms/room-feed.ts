import type { Connection } from '../connections/connection.ts';
import { prepareTextFrame, type PreparedFrame } from '../connections/prepared-frame.ts';
import { RecentFrames, type RecentAnswer, type RecentFramesBudget } from './recent-frames.ts';

/** A stored message ready to send: its place in the conversation and the frame's bytes. */
export interface SequencedFrame {
  seq: number;
  bytes: Buffer;
}

/** Where a conversation stands: its newest stored message (seq 0 and id 0 when it has none). */
export interface ConversationHead {
  seq: number;
  id: number;
}

export interface RoomFeedSource {
  /** The conversation's newest stored message. */
  head(room: string): Promise<ConversationHead>;
  /** The latest stored seq of many conversations in one query (missing ones have no messages). */
  lastSeqs(rooms: string[]): Promise<Map<string, number>>;
  /** Stored messages with seq ≥ fromSeq, in order (at most `limit`). */
  framesFrom(room: string, fromSeq: number, limit: number): Promise<SequencedFrame[]>;
}

export interface RoomFeedOptions {
  /** How long an out-of-order frame waits for the ones before it before history fills the gap. */
  gapWaitMs: number;
  onError(err: unknown): void;
  /** Called once per frame delivered to local sockets, with how many sockets got it. */
  onDelivered?(recipients: number): void;
  /** Keeps each room's newest frames for catch-up (see RecentFrames); none when absent or 0 bytes. */
  recent?: RecentFramesBudget;
}

const FILL_PAGE = 500;
const ID_PREFIX = Buffer.from('{"id":');

/** A stored message's id, from its frame's JSON, which starts with it (see chatFrame). */
export function frameId(json: Buffer): number | undefined {
  if (json.length <= ID_PREFIX.length || json.compare(ID_PREFIX, 0, ID_PREFIX.length, 0, ID_PREFIX.length) !== 0) return undefined;
  let id = 0;
  let i = ID_PREFIX.length;
  for (; i < json.length; i += 1) {
    const c = json[i]!;
    if (c < 0x30 || c > 0x39) break;
    id = id * 10 + (c - 0x30);
  }
  return i > ID_PREFIX.length && i < json.length && json[i] === 0x2c /* , */ && Number.isSafeInteger(id) ? id : undefined;
}

/**
 * Delivers one conversation's messages to this gateway's sockets in stored order. Messages come
 * from Redis (fast, but may arrive out of order from different gateways, or not at all while
 * Redis is away) and from this gateway's own sends. `seq` has no gaps, so a jump shows a missing
 * message: it is awaited briefly, then read from MySQL — history is the truth.
 */
export class RoomFeed {
  readonly connections = new Set<Connection>();
  // Seqs are numbers here (exact below 2^53, far beyond any conversation): the hot path compares
  // them per recipient, and BigInt comparisons cost more.
  private nextSeq: number | undefined;
  /** The id of message nextSeq - 1, when known: lets a catch-up start without MySQL. */
  private lastId: number | undefined;
  /** The newest delivered frames, from this room's first delivery on (see RecentFrames). */
  private recent: RecentFrames | undefined;
  private early: SequencedFrame[] = [];
  private readonly held = new Map<number, Buffer>();
  private gapTimer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    readonly room: string,
    private readonly source: RoomFeedSource,
    private readonly options: RoomFeedOptions,
  ) {}

  /**
   * Learns where the conversation stands. Call after the Redis subscription is confirmed, so
   * every message stored later either arrives through Redis or is found by a resync.
   */
  start(): Promise<void> {
    this.ready ??= this.init();
    return this.ready;
  }

  private async init(): Promise<void> {
    const head = await this.source.head(this.room);
    this.nextSeq = head.seq + 1;
    this.lastId = head.id;
    const early = this.early;
    this.early = [];
    for (const frame of early) this.accept(frame.seq, frame.bytes);
  }

  /** A stored message, from Redis or from a local send, possibly out of order or repeated. */
  accept(seq: number, bytes: Buffer): void {
    if (this.nextSeq === undefined) {
      this.early.push({ seq, bytes });
      return;
    }
    if (seq < this.nextSeq) return;
    if (seq > this.nextSeq) {
      this.held.set(seq, bytes);
      this.scheduleGapFill();
      return;
    }
    this.emit(seq, bytes);
    this.releaseHeld();
  }

  /** A presence frame: not stored, so not ordered; goes to every socket at once. */
  broadcast(bytes: Buffer): void {
    const frame = prepareTextFrame(bytes);
    for (const connection of this.connections) connection.deliverTransient(frame);
  }

  /**
   * Reads what this gateway may have missed from MySQL (after Redis came back, or on the periodic
   * check), and delivers it in order.
   */
  resync(): Promise<void> {
    this.filling ??= this.fillFromHistory().finally(() => {
      this.filling = undefined;
    });
    return this.filling;
  }

  /** Whether MySQL has messages this feed has not delivered yet. */
  isBehind(storedLastSeq: number): boolean {
    return this.nextSeq !== undefined && storedLastSeq >= this.nextSeq;
  }

  /**
   * For a client that has seen every message up to `lastId`: the next `max` messages it lacks,
   * from memory, or undefined when memory cannot tell (the feed has not started, or `lastId` is
   * older than what this gateway keeps, or newer than anything delivered here): then MySQL must
   * answer. Messages not delivered here yet are not included; they reach a joined connection live.
   */
  recentAfter(lastId: number, max: number): RecentAnswer | undefined {
    if (this.nextSeq === undefined) return undefined;
    if (this.recent) return this.recent.after(lastId, max);
    // Only an exact match: a newer last_id names a message not delivered here yet (see RecentFrames.after).
    if (this.lastId !== undefined && lastId === this.lastId) return { frames: [], throughSeq: this.nextSeq - 1, more: false };
    return undefined;
  }

  close(): void {
    clearTimeout(this.gapTimer);
    this.connections.clear();
    this.held.clear();
    this.recent?.discard();
    this.recent = undefined;
  }

  private emit(seq: number, bytes: Buffer): void {
    const frame = prepareTextFrame(bytes);
    let recipients = 0;
    for (const connection of this.connections) if (connection.deliver(seq, frame)) recipients += 1;
    this.keep(seq, frame);
    this.nextSeq = seq + 1;
    this.options.onDelivered?.(recipients);
  }

  private keep(seq: number, frame: PreparedFrame): void {
    const id = frameId(frame.payload);
    const budget = this.options.recent;
    if (budget && budget.maxBytes > 0) {
      this.recent ??= new RecentFrames(budget, seq - 1, this.lastId);
      if (id === undefined) this.recent.skip(seq);
      else this.recent.push(seq, id, frame);
    }
    this.lastId = id;
  }

  private releaseHeld(): void {
    for (let bytes = this.held.get(this.nextSeq!); bytes; bytes = this.held.get(this.nextSeq!)) {
      this.held.delete(this.nextSeq!);
      this.emit(this.nextSeq!, bytes);
    }
    if (this.held.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  private scheduleGapFill(): void {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.held.size > 0) void this.resync();
    }, this.options.gapWaitMs);
  }

  private async fillFromHistory(): Promise<void> {
    try {
      await this.start();
      for (;;) {
        const frames = await this.source.framesFrom(this.room, this.nextSeq!, FILL_PAGE);
        for (const frame of frames) this.accept(frame.seq, frame.bytes);
        if (frames.length < FILL_PAGE) break;
      }
      // Held frames beyond what history had (should not happen: a later seq commits after earlier ones).
      if (this.held.size > 0) this.scheduleGapFill();
    } catch (err) {
      this.options.onError(err);
      if (this.held.size > 0) this.scheduleGapFill();
    }
  }
}
