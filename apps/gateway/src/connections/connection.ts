import type { WebSocket } from 'ws';
import { CloseCode, systemFrame } from '@im/protocol';
import type { SessionInfo } from '../upgrade/authorize-upgrade.ts';
import { TokenBucket } from './token-bucket.ts';
import { prepareTextFrame, sendPrepared, type PreparedFrame } from './prepared-frame.ts';

export interface ConnectionLimits {
  maxBufferedBytes: number;
  messagesPerSecond: number;
}

/** A frame waiting while the connection catches up, with its place in the conversation. */
interface Pending {
  seq: number;
  frame: PreparedFrame;
}

/**
 * One client socket and what the gateway knows about it. While it catches up from history
 * (`last_id`), live frames queue here and are released after the history, skipping those the
 * history already contained: no gap, no duplicate.
 */
export class Connection {
  /** Set by the heartbeat; a socket that misses a pong is dropped. */
  alive = true;
  private catchingUp = false;
  private pending: Pending[] = [];
  /** Highest conversation seq this socket was sent; anything at or below it is a duplicate. */
  private lastSeq = 0;
  private readonly bucket: TokenBucket;
  /** Frames refused in a row for flooding; too many closes the socket. */
  floodStrikes = 0;

  constructor(
    readonly ws: WebSocket,
    readonly session: SessionInfo,
    private readonly limits: ConnectionLimits,
    private readonly onShed: (connection: Connection) => void,
  ) {
    this.bucket = new TokenBucket(limits.messagesPerSecond);
  }

  get userId(): string {
    return this.session.user.userId;
  }

  get room(): string {
    return this.session.room;
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Whether the client may send another message now. */
  allowMessage(): boolean {
    return this.bucket.take();
  }

  startCatchUp(): void {
    this.catchingUp = true;
  }

  /** A message from history during catch-up; goes out at once, ahead of the queued live ones. */
  sendHistory(seq: number, bytes: Buffer): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.send(bytes);
  }

  /** As sendHistory, for a frame already prepared for the whole room (catch-up from memory). */
  sendHistoryFrame(seq: number, frame: PreparedFrame): void {
    if (seq <= this.lastSeq || !this.writable()) return;
    this.lastSeq = seq;
    sendPrepared(this.ws, frame);
  }

  /** Catch-up learnt the client already has every message up to `seq`: those are not sent again. */
  skipThrough(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** Ends catch-up: sends the queued live frames history did not already cover, then goes live. */
  finishCatchUp(): void {
    const queued = this.pending;
    this.pending = [];
    this.catchingUp = false;
    for (const pending of queued) this.deliver(pending.seq, pending.frame);
  }

  /**
   * A stored message in conversation order, framed once for every recipient; queued while
   * catching up, skipped if already sent. This is the fan-out hot path: keep it allocation-free.
   */
  deliver(seq: number, frame: PreparedFrame): boolean {
    if (this.catchingUp) {
      this.pending.push({ seq, frame });
      return false;
    }
    if (seq <= this.lastSeq || !this.writable()) return false;
    this.lastSeq = seq;
    sendPrepared(this.ws, frame);
    return true;
  }

  /** A transient frame (presence, progress) already framed for the whole room. */
  deliverTransient(frame: PreparedFrame): boolean {
    if (!this.writable()) return false;
    sendPrepared(this.ws, frame);
    return true;
  }

  /**
   * Sends a text frame. A client that does not read fast enough is shed rather than letting its
   * queue grow without bound: it reconnects with `last_id` and catches up from history.
   */
  send(bytes: Buffer): boolean {
    if (!this.writable()) return false;
    sendPrepared(this.ws, prepareTextFrame(bytes));
    return true;
  }

  /** Open, and reading fast enough; a socket whose backlog passed the cap is shed here. */
  private writable(): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.onShed(this);
      return false;
    }
    return true;
  }

  sendError(code: number, content: string, clientMsgId?: string): void {
    this.send(Buffer.from(JSON.stringify(systemFrame(code, content, clientMsgId))));
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.CLOSED || this.ws.readyState === this.ws.CLOSING) return;
    this.ws.close(code, reason);
    // A peer that never answers the close handshake must not hold the socket open.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  /** For shedding: drops the socket without waiting for buffered data to drain. */
  shed(): void {
    this.close(CloseCode.SlowConsumer, 'slow consumer: reconnect with last_id');
    this.ws.terminate();
  }
}
