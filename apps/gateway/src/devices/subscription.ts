import type { WebSocket } from 'ws';
import type { FileUrlSigner } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';
import type { PreparedFrame } from '../connections/prepared-frame.ts';
import type { FeedRecipient } from '../fanout/conversation-feed.ts';
import type { CatchUpTarget } from '../sessions/catch-up.ts';
import { isConversationFrame, part2Frame } from './part2-frame.ts';

interface Pending {
  seq: number;
  frame: PreparedFrame;
}

/**
 * One conversation of one `/api/chat` socket: what the conversation's feed delivers to, with the
 * socket's place in it, so a socket in 500 rooms keeps each one's order, gap and duplicate
 * checks apart. While it catches up (a resume, or the first moments after opening, see Devices)
 * live frames queue here and are released after the history, skipping those it contained.
 */
export class Subscription implements FeedRecipient, CatchUpTarget {
  private catchingUp = false;
  private pending: Pending[] | undefined = undefined;
  /** Highest seq this socket was sent in the conversation. */
  private lastSeq = 0;

  constructor(
    readonly connection: Connection,
    /** The conversation (named `room` as the feeds and catch-up name it). */
    readonly room: string,
    private readonly sign: FileUrlSigner,
  ) {}

  get userId(): string {
    return this.connection.userId;
  }

  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  get ws(): WebSocket {
    return this.connection.ws;
  }

  get isCatchingUp(): boolean {
    return this.catchingUp;
  }

  startCatchUp(): void {
    this.catchingUp = true;
  }

  deliver(seq: number, frame: PreparedFrame): boolean {
    if (this.catchingUp) {
      (this.pending ??= []).push({ seq, frame });
      return false;
    }
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    return this.connection.deliverTransient(part2Frame(this.room, frame, this.sign));
  }

  /** Only `/api/chat` frames (typing, receipts, room events); Part 1's presence and file notices are not for it. */
  deliverTransient(frame: PreparedFrame): boolean {
    return isConversationFrame(frame) && this.connection.deliverTransient(frame);
  }

  sendHistoryPage(page: Iterable<Pending>): void {
    const frames: PreparedFrame[] = [];
    for (const { seq, frame } of page) {
      if (seq <= this.lastSeq) continue;
      this.lastSeq = seq;
      frames.push(part2Frame(this.room, frame, this.sign));
    }
    this.connection.sendFrames(frames);
  }

  skipThrough(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  finishCatchUp(): void {
    const queued = this.pending ?? [];
    this.pending = undefined;
    this.catchingUp = false;
    this.sendHistoryPage(queued);
  }
}
