import type { PreparedFrame } from '../connections/prepared-frame.ts';

/** A delivered message kept for catch-up: its place in the conversation, its id, its frame. */
export interface RecentFrame {
  seq: number;
  id: number;
  frame: PreparedFrame;
}

/** What memory can answer for a client resuming after some id. */
export interface RecentAnswer {
  /** The frames after that id, oldest first (at most the number asked for). */
  frames: RecentFrame[];
  /** The client already has every message up to this seq: live frames at or below it are repeats. */
  throughSeq: number;
  /** More frames after these are buffered: ask again after the last one. */
  more: boolean;
}

/** Bytes a buffered frame costs besides its buffers: the entry, its slot in two queues. */
const ENTRY_OVERHEAD = 96;
/**
 * What a dropped frame's slot in the budget's queue still costs until the budget reaches it:
 * counting it keeps the queue itself bounded by `maxBytes`.
 */
const STALE_SLOT_BYTES = 16;

/**
 * The byte budget every room's RecentFrames on one gateway shares. Frames are dropped oldest
 * first across all rooms, so memory stays under `maxBytes` however many rooms are busy, and a
 * room's buffer always holds a contiguous run of its newest messages.
 */
export class RecentFramesBudget {
  private bytes = 0;
  /** One entry per buffered frame, in the order frames were added: whose frame goes next. */
  private order: RecentFrames[] = [];
  private head = 0;

  /** @param maxBytes 0 keeps nothing. */
  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get frameCount(): number {
    return this.order.length - this.head;
  }

  /** @internal RecentFrames reports each frame it keeps. */
  added(owner: RecentFrames, bytes: number): void {
    this.bytes += bytes;
    this.order.push(owner);
    this.trim();
  }

  /** @internal RecentFrames dropped frames itself; their slots stay queued at STALE_SLOT_BYTES. */
  released(bytes: number): void {
    this.bytes -= bytes;
  }

  private trim(): void {
    while (this.bytes > this.maxBytes && this.head < this.order.length) {
      const victim = this.order[this.head]!;
      this.order[this.head++] = undefined as unknown as RecentFrames;
      this.bytes -= victim.dropOldest();
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * One room's newest delivered frames, in seq order without gaps, for clients that reconnect with
 * a recent `last_id`: they catch up from here instead of MySQL. Created on a room's first
 * delivered message, so a room without traffic costs nothing. Ids grow with seqs within a
 * conversation, which is what lets a `last_id` be looked up here.
 */
export class RecentFrames {
  private frames: RecentFrame[] = [];
  private head = 0;
  /** Slots in the budget's queue for frames this buffer already dropped; they come first. */
  private staleSlots = 0;

  /**
   * @param floorSeq the seq of the newest message not buffered (0 for an empty conversation)
   * @param floorId its id, when known (0 for an empty conversation)
   */
  constructor(
    private readonly budget: RecentFramesBudget,
    private floorSeq: number,
    private floorId: number | undefined,
  ) {}

  get size(): number {
    return this.frames.length - this.head;
  }

  /** The seq of the newest message this buffer accounts for. */
  get lastSeq(): number {
    return this.size > 0 ? this.frames[this.frames.length - 1]!.seq : this.floorSeq;
  }

  /** The next message of the room (seq = lastSeq + 1), as it is delivered. */
  push(seq: number, id: number, frame: PreparedFrame): void {
    if (seq !== this.lastSeq + 1) this.restart(seq - 1, undefined);
    this.frames.push({ seq, id, frame });
    this.budget.added(this, frameBytes(frame));
  }

  /**
   * A message whose id could not be read was delivered: nothing before it can be looked up by id
   * any more, so the buffer starts again after it.
   */
  skip(seq: number): void {
    this.restart(seq, undefined);
  }

  /** The room is gone from this gateway: frees every frame now. */
  discard(): void {
    this.restart(this.lastSeq, undefined);
  }

  /** @internal The budget takes the oldest frame back; returns the bytes that frees. */
  dropOldest(): number {
    if (this.staleSlots > 0) {
      this.staleSlots -= 1;
      return STALE_SLOT_BYTES;
    }
    if (this.head >= this.frames.length) return 0;
    const oldest = this.frames[this.head]!;
    this.frames[this.head++] = undefined as unknown as RecentFrame;
    this.floorSeq = oldest.seq;
    this.floorId = oldest.id;
    if (this.head > 256 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return frameBytes(oldest.frame);
  }

  /**
   * The frames a client that has seen everything up to `lastId` lacks, if this buffer provably
   * holds all of them (the newest unbuffered message is at or before `lastId`); otherwise
   * undefined, and MySQL must answer. Also undefined when `lastId` is newer than anything
   * delivered here: the client saw a message this gateway has not delivered yet, whose seq only
   * MySQL knows, and without it that message would reach the client live a second time.
   */
  after(lastId: number, max: number): RecentAnswer | undefined {
    const size = this.size;
    const newestId = size > 0 ? this.frames[this.frames.length - 1]!.id : this.floorId;
    if (newestId === undefined || lastId > newestId) return undefined;
    const covered =
      (this.floorId !== undefined && lastId >= this.floorId) || (size > 0 && lastId >= this.frames[this.head]!.id);
    if (!covered) return undefined;
    // First frame with id > lastId.
    let lo = this.head;
    let hi = this.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.frames[mid]!.id > lastId) hi = mid;
      else lo = mid + 1;
    }
    const end = Math.min(this.frames.length, lo + Math.max(0, max));
    const frames = this.frames.slice(lo, end);
    const throughSeq = lo < this.frames.length ? this.frames[lo]!.seq - 1 : this.lastSeq;
    return { frames, throughSeq, more: end < this.frames.length };
  }

  /** Drops every frame and starts again after `seq`. */
  private restart(seq: number, id: number | undefined): void {
    let freed = 0;
    for (let i = this.head; i < this.frames.length; i += 1) freed += frameBytes(this.frames[i]!.frame) - STALE_SLOT_BYTES;
    this.staleSlots += this.size;
    this.budget.released(freed);
    this.frames = [];
    this.head = 0;
    this.floorSeq = seq;
    this.floorId = id;
  }
}

function frameBytes(frame: PreparedFrame): number {
  return frame.wire.length + frame.payload.length + ENTRY_OVERHEAD;
}
