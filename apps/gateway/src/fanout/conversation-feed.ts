import type { ChatReader } from '@im/db';
import { prepareTextFrame, type PreparedFrame } from '../connections/prepared-frame.ts';
import { RecentFrames, type RecentAnswer, type RecentFramesBudget } from './recent-frames.ts';

/** Where a feed reads what it missed: MySQL, through the gateway's chat reader. */
export type FeedSource = Pick<ChatReader, 'head' | 'framesFromSeq'>;

/** Who a feed delivers to: a socket of this gateway in the conversation. */
export interface FeedRecipient {
  /** Whose socket it is (the local stand-in for the online count counts distinct users). */
  readonly userId: string;
  /** A stored message in conversation order; false when the socket did not take it. */
  deliver(seq: number, frame: PreparedFrame): boolean;
  /** A transient frame (presence, progress), not ordered. */
  deliverTransient(frame: PreparedFrame): boolean;
}

/**
 * What every feed of a gateway shares: one object, so a feed costs no options or closures of its
 * own (a gateway holds a feed per private chat of its users, tens of thousands of them).
 */
export interface ConversationFeedOptions {
  /** How long an out-of-order frame waits for the ones before it before history fills the gap. */
  gapWaitMs: number;
  onError(err: unknown, conversation: string): void;
  /** Called once per frame delivered to local sockets, with how many sockets got it. */
  onDelivered?(recipients: number): void;
  /** Keeps each conversation's newest frames for catch-up (see RecentFrames); none when absent or 0 bytes. */
  recent?: RecentFramesBudget;
}

/** A stored message waiting for its turn. */
interface Waiting {
  seq: number;
  id: number;
  bytes: Buffer;
}

const FILL_PAGE = 500;
const STARTED: Promise<void> = Promise.resolve();

/**
 * Delivers one conversation's messages to this gateway's sockets in stored order. Messages come
 * from the bus (fast, but possibly out of order from different gateways, or not at all while
 * Redis is away) and from this gateway's own sends. `seq` has no gaps, so a jump shows a missing
 * message: it is awaited briefly, then read from MySQL — history is the truth. Which channel a
 * message arrived on does not matter here: the bus header names its conversation.
 */
export class ConversationFeed {
  readonly recipients = new Set<FeedRecipient>();
  // Seqs are numbers here (exact below 2^53, far beyond any conversation): the hot path compares
  // them per recipient, and BigInt comparisons cost more.
  private nextSeq: number | undefined;
  /** The id of message nextSeq - 1, when known: lets a catch-up start without MySQL. */
  private lastId: number | undefined;
  /** The newest delivered frames, from this feed's first delivery on (see RecentFrames). */
  private recent: RecentFrames | undefined;
  // Made on first use: most feeds never see a message out of order.
  private early: Waiting[] | undefined;
  private held: Map<number, Waiting> | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private ready: Promise<void> | undefined;
  /** Started at MySQL's head and nothing delivered since: a late message at or below it may still move the start back (see accept). */
  private rewindable = false;

  constructor(
    readonly conversation: string,
    private readonly source: FeedSource,
    private readonly options: ConversationFeedOptions,
  ) {}

  /**
   * Learns where the conversation stands. Call after the bus subscription is confirmed, so
   * every message stored later either arrives through the bus or is found by a resync.
   */
  start(): Promise<void> {
    this.ready ??= this.init();
    return this.ready;
  }

  /**
   * Starts at a known message without asking MySQL (a private message that made this feed): it
   * is the first delivered here.
   */
  startAt(seq: number): void {
    if (this.ready) return;
    this.ready = STARTED;
    this.begin(seq);
  }

  /**
   * Starts at `seq` or at the earlier message `earlier` names (one this gateway owes its sockets
   * but never saw published), which is then read from MySQL before `seq` goes out. Without an
   * answer it starts at `seq`.
   */
  startAtOrBefore(seq: number, earlier: Promise<number | undefined>): void {
    this.ready ??= earlier.then(
      (first) => this.begin(first !== undefined && first < seq ? first : seq),
      () => this.begin(seq),
    );
  }

  private begin(seq: number): void {
    this.nextSeq = seq;
    const early = this.early;
    this.early = undefined;
    // Lowest first: the first one below the start moves the start back to it (see accept).
    for (const message of (early ?? []).sort((a, b) => a.seq - b.seq)) this.accept(message.seq, message.id, message.bytes);
    if (this.held?.size) void this.resync();
  }

  /**
   * Starts after MySQL's head, or earlier (see accept): what was stored before the head was read
   * but reaches this gateway after it still goes out. A private chat's feed is made with every
   * local socket of both users in it, live ones included, and its first message is then its
   * sender's echo (their ack): stored a moment before the head was read, it was delivered to
   * nobody. MySQL fills what lies between; sockets catching up skip what they have.
   */
  private async init(): Promise<void> {
    const head = await this.source.head(this.conversation);
    this.lastId = head.id;
    this.rewindable = true;
    this.begin(head.seq + 1);
    // The promise that waited for MySQL is no longer needed (a gateway holds thousands of feeds).
    this.ready = STARTED;
  }

  /** A stored message, from the bus or from a local send, possibly out of order or repeated. */
  accept(seq: number, id: number, bytes: Buffer): void {
    if (this.nextSeq === undefined) {
      (this.early ??= []).push({ seq, id, bytes });
      return;
    }
    if (seq < this.nextSeq) {
      if (!this.rewindable) return;
      // Stored before the head was read, here after it, and nothing went out since: start at it.
      this.nextSeq = seq;
      this.lastId = undefined;
      void this.resync();
    }
    if (seq > this.nextSeq) {
      (this.held ??= new Map()).set(seq, { seq, id, bytes });
      this.scheduleGapFill();
      return;
    }
    this.emit(seq, id, bytes);
    this.releaseHeld();
  }

  /** A transient frame: not stored, so not ordered; goes to every socket at once (but `skipUserId`'s). */
  broadcast(bytes: Buffer, skipUserId?: string): void {
    const frame = prepareTextFrame(bytes);
    for (const recipient of this.recipients) if (recipient.userId !== skipUserId) recipient.deliverTransient(frame);
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
   * answer. Messages not delivered here yet are not included; they reach a joined socket live.
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
    this.recipients.clear();
    this.held = undefined;
    this.recent?.discard();
    this.recent = undefined;
  }

  /** The fan-out hot path: one prepared frame, one write per recipient, nothing else allocated. */
  private emit(seq: number, id: number, bytes: Buffer): void {
    this.rewindable = false;
    const frame = prepareTextFrame(bytes);
    let delivered = 0;
    for (const recipient of this.recipients) if (recipient.deliver(seq, frame)) delivered += 1;
    this.keep(seq, id, frame);
    this.nextSeq = seq + 1;
    this.options.onDelivered?.(delivered);
  }

  private keep(seq: number, id: number, frame: PreparedFrame): void {
    const budget = this.options.recent;
    if (budget && budget.maxBytes > 0) {
      this.recent ??= new RecentFrames(budget, seq - 1, this.lastId);
      this.recent.push(seq, id, frame);
    }
    this.lastId = id;
  }

  private releaseHeld(): void {
    const held = this.held;
    if (!held) return;
    for (let message = held.get(this.nextSeq!); message; message = held.get(this.nextSeq!)) {
      held.delete(message.seq);
      this.emit(message.seq, message.id, message.bytes);
    }
    if (held.size === 0) {
      this.held = undefined;
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  private scheduleGapFill(): void {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.held?.size) void this.resync();
    }, this.options.gapWaitMs);
  }

  private async fillFromHistory(): Promise<void> {
    try {
      await this.start();
      for (;;) {
        const frames = await this.source.framesFromSeq(this.conversation, this.nextSeq!, FILL_PAGE);
        for (const frame of frames) this.accept(frame.seq, frame.id, frame.bytes);
        if (frames.length < FILL_PAGE) break;
      }
      // Held frames beyond what history had (should not happen: a later seq commits after earlier ones).
      if (this.held?.size) this.scheduleGapFill();
    } catch (err) {
      this.options.onError(err, this.conversation);
      if (this.held?.size) this.scheduleGapFill();
    }
  }
}
