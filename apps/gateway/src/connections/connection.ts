import { WebSocket } from 'ws';
import type { TokenClaims } from '@im/auth';
import { CloseCode, systemFrame, type UserSummary } from '@im/protocol';
import type { FeedRecipient } from '../fanout/conversation-feed.ts';
import type { Expiring } from './expiry-queue.ts';
import { TokenBucket } from './token-bucket.ts';
import { prepareTextFrame, sendPrepared, sendPreparedBatch, type PreparedFrame } from './prepared-frame.ts';

/** One object for every connection of a gateway. */
export interface ConnectionLimits {
  maxBufferedBytes: number;
  messagesPerSecond: number;
}

/** Everything a new connection needs, decided before the upgrade completes (see authorizeUpgrade). */
export interface SessionInfo {
  claims: TokenClaims;
  user: UserSummary;
  /** `group`, or the private pair's conversation key. */
  room: string;
  /** The private peer; undefined in the group room. */
  target?: UserSummary;
  /** An `/api/chat` socket (Part 2): every conversation of the user; `room` is empty. */
  devices?: true;
  /** Catch-up point: the id of the last message the client saw. */
  lastId?: bigint;
}

/** What message handling needs of the session once the socket is open. */
export type ConnectionSession = Pick<SessionInfo, 'user' | 'room' | 'target'>;

/** A frame waiting while the connection catches up, with its place in the conversation. */
interface Pending {
  seq: number;
  frame: PreparedFrame;
}

/**
 * ws's socket with a slot for its Connection, so the gateway's event listeners can be one shared
 * function each (`this` is the socket) instead of closures allocated for every socket.
 */
export class ConnectionSocket extends WebSocket {
  connection: Connection | undefined = undefined;

  /**
   * A pong marks the connection alive for the heartbeat here, not through a listener: every
   * socket's listener table has room for three events (error, message, close), and a fourth
   * grows it by ~100 bytes.
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'pong' && this.connection) this.connection.alive = true;
    return super.emit(event, ...args);
  }
}

/**
 * One client socket and what the gateway knows about it. While it catches up from history
 * (`last_id`), live frames queue here and are released after the history, skipping those the
 * history already contained: no gap, no duplicate.
 *
 * Tens of thousands of these sit idle per gateway, so everything a quiet socket does not need is
 * made on first use (rate bucket, catch-up queue), nothing is a closure, and the session keeps
 * only what message handling reads: not the token's claims.
 */
export class Connection implements Expiring, FeedRecipient {
  /** Set by the heartbeat; a socket that misses a pong is dropped. */
  alive = true;
  private catchingUp = false;
  private pending: Pending[] | undefined = undefined;
  /** Highest conversation seq this socket was sent; anything at or below it is a duplicate. */
  private lastSeq = 0;
  private bucket: TokenBucket | undefined = undefined;
  /** Frames refused in a row for flooding; too many closes the socket. */
  floodStrikes = 0;
  readonly user: UserSummary;
  /** `group`, or the private pair's conversation key. */
  readonly room: string;
  readonly target: UserSummary | undefined;
  /** An `/api/chat` socket: its conversations are kept by Devices. */
  readonly devices: boolean;
  /** The token's id: a logout closes every socket opened with it. */
  readonly jti: string;
  /** Epoch ms when the token expires and the socket is closed (4002). */
  readonly expiresAt: number;
  /** Kept by the gateway's ExpiryQueue. */
  expiryIndex = -1;
  /** The socket is in its room (joined), so closing it must leave the room and presence. */
  joined = false;
  /** Pending while the socket joins its room; undefined once it settled. */
  joining: Promise<void> | undefined = undefined;

  constructor(
    readonly ws: WebSocket,
    session: SessionInfo,
    private readonly limits: ConnectionLimits,
    private readonly onShed: (connection: Connection) => void,
  ) {
    this.user = session.user;
    this.room = session.room;
    this.target = session.target;
    this.devices = session.devices === true;
    this.jti = session.claims.jti;
    this.expiresAt = session.claims.expiresAt.getTime();
  }

  /** The session's user, room and peer (the connection holds them itself). */
  get session(): ConnectionSession {
    return this;
  }

  get userId(): string {
    return this.user.userId;
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Whether the client may send another message now. */
  allowMessage(): boolean {
    this.bucket ??= new TokenBucket(this.limits.messagesPerSecond);
    return this.bucket.take();
  }

  startCatchUp(): void {
    this.catchingUp = true;
  }

  /**
   * A page of history during catch-up, in conversation order; goes out at once (one socket write
   * for the page), ahead of the queued live frames. Frames the client already has are skipped.
   */
  sendHistoryPage(page: Iterable<Pending>): void {
    if (!this.writable()) return;
    const frames: PreparedFrame[] = [];
    for (const { seq, frame } of page) {
      if (seq <= this.lastSeq) continue;
      this.lastSeq = seq;
      frames.push(frame);
    }
    sendPreparedBatch(this.ws, frames);
  }

  /** Catch-up learnt the client already has every message up to `seq`: those are not sent again. */
  skipThrough(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** Ends catch-up: sends the queued live frames history did not already cover, then goes live. */
  finishCatchUp(): void {
    const queued = this.pending ?? [];
    this.pending = undefined;
    this.catchingUp = false;
    // Live frames that queued meanwhile are in seq order too: one write, like a history page.
    this.sendHistoryPage(queued);
  }

  /**
   * A stored message in conversation order, framed once for every recipient; queued while
   * catching up, skipped if already sent. This is the fan-out hot path: keep it allocation-free.
   */
  deliver(seq: number, frame: PreparedFrame): boolean {
    if (this.catchingUp) {
      (this.pending ??= []).push({ seq, frame });
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

  /** Several prepared frames in one socket write (an `/api/chat` catch-up page). */
  sendFrames(frames: PreparedFrame[]): void {
    if (frames.length > 0 && this.writable()) sendPreparedBatch(this.ws, frames);
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
