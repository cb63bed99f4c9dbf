import { CloseCode, ErrorCode, GROUP_CONVERSATION, MsgType, needsNewLogin, privateConversation } from '@im/protocol';
import type { ChatFrame, SystemFrame } from '@im/protocol';
import { ApiError } from '../api-error.ts';
import type { ConversationId } from '../types.ts';
import type { ChatSocketEvents, ChatSocketOptions, PendingMessage, SentMessage, SocketState, StateChange } from './chat-socket-types.ts';
import { closeAction } from './close-policy.ts';
import { Emitter } from './emitter.ts';
import {
  asChatMessage,
  conversationOf,
  isChatFrame,
  type OutgoingMessage,
  type PresenceNotice,
  type ReadFrame,
  type RoomEventFrame,
  type ServerFrame,
  type SystemNotice,
  type TypingFrame,
} from './frames.ts';
import { Outbox, type OutboxEntry } from './outbox.ts';
import { ConversationRetry, ResumeRetry } from './resume-retry.ts';
import { OPEN, platformWebSocket, type WebSocketLike } from './web-socket.ts';

export type * from './chat-socket-types.ts';

/** Ours, for a connection dropped by the client because acks stopped coming. */
const ACK_TIMEOUT_CLOSE = 4000;
/** Handshakes that fail before opening, in a row, before `checkToken` is asked. */
const FAILED_HANDSHAKES_BEFORE_TOKEN_CHECK = 2;

/**
 * A chat connection that survives: it reconnects with exponential backoff and jitter, resumes
 * where it left off (Part 1 `last_id` in the URL; Part 2 a resume frame after opening), resends
 * every message not yet acknowledged with its own `client_msg_id` (the server stores each once;
 * its echo is the ack), drops the duplicates a resume can bring, and follows the close codes of
 * @im/protocol: 4001/4002 stop and ask for a login, 1012 comes back at once, 1008 later, the
 * rest with backoff. Works in browsers and in Node (pass `ws`).
 */
export class ChatSocket extends Emitter<ChatSocketEvents> {
  private readonly options: ChatSocketOptions;
  private readonly random: () => number;
  private readonly resumeRetry: ResumeRetry;
  private readonly conversationRetry: ConversationRetry;
  private readonly outbox: Outbox;
  /** Part 1: key '' (one conversation per socket). Part 2: by conversation. */
  private readonly lastIds = new Map<string, number>();
  /** Part 2 read cursors waiting to go out. */
  private readonly pendingReads = new Map<ConversationId, number>();

  private ws: WebSocketLike | undefined;
  private opened = false;
  private welcomed = false;
  private everWelcomed = false;
  private closedByUser = false;
  private attempt = 0;
  private failedHandshakes = 0;
  private checkingToken = false;
  /** Part 1 private socket without `selfId`: the pair, from the first chat frame. */
  private learnedConversation: ConversationId | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setInterval> | undefined;
  private currentState: SocketState = 'idle';
  private firstWelcome: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(options: ChatSocketOptions) {
    super();
    if (!options.createWebSocket && !options.WebSocket && !platformWebSocket()) {
      throw new Error('ChatSocket: no WebSocket here; in Node 20 pass { WebSocket } from the ws package');
    }
    this.options = options;
    this.random = options.random ?? Math.random;
    this.resumeRetry = new ResumeRetry(options.reconnect || {}, this.random);
    this.conversationRetry = new ConversationRetry(options.reconnect || {}, this.random);
    this.outbox = new Outbox({ maxFrameBytes: options.maxFrameBytes ?? 16_384, maxSendAttempts: options.maxSendAttempts ?? 8, random: this.random });
    if (options.endpoint.kind !== 'chat' && options.lastId !== undefined) this.lastIds.set('', options.lastId);
    for (const [conversation, id] of Object.entries(options.lastIds ?? {})) this.lastIds.set(conversation, id);
  }

  get state(): SocketState {
    return this.currentState;
  }

  /** The endpoint's conversation for Part 1 sockets (`group` or the private pair, when `selfId` is known). */
  get conversation(): ConversationId | undefined {
    const endpoint = this.options.endpoint;
    if (endpoint.kind === 'group') return GROUP_CONVERSATION;
    if (endpoint.kind === 'private' && this.options.selfId) return privateConversation(this.options.selfId, endpoint.targetId);
    return undefined;
  }

  /** The newest message id seen: of the socket's conversation (Part 1), or of `conversation` (Part 2). */
  lastIdOf(conversation?: ConversationId): number | undefined {
    return this.lastIds.get(this.options.endpoint.kind === 'chat' ? (conversation ?? '') : '');
  }

  /** Messages sent but not acknowledged yet, oldest first (they are resent after a reconnect). */
  get pending(): PendingMessage[] {
    return this.outbox.pending;
  }

  /** The transport in use (for tests that need the raw socket); undefined between connections. */
  get transport(): WebSocketLike | undefined {
    return this.ws;
  }

  /**
   * Connects (again, after `close()` or a `needsLogin` stop) and resolves at the first welcome.
   * Rejects if the socket stops before that (token refused, or reconnecting is off).
   */
  connect(): Promise<void> {
    this.closedByUser = false;
    if (this.currentState === 'open') return Promise.resolve();
    this.firstWelcome ??= deferred();
    if (!this.ws && this.reconnectTimer === undefined && !this.checkingToken) this.openTransport();
    return this.firstWelcome.promise;
  }

  /** Closes for good (code 1000). Unacknowledged messages stay in `pending` for a later `connect()`. */
  close(): void {
    this.closedByUser = true;
    this.clearReconnect();
    this.resumeRetry.reset();
    this.conversationRetry.reset();
    const ws = this.ws;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(CloseCode.Normal);
      } catch {
        // already closing
      }
    }
    this.stop({ state: 'closed', code: CloseCode.Normal });
  }

  /** Skips the backoff wait (e.g. when the browser says it is online again). */
  reconnectNow(): void {
    if (this.reconnectTimer === undefined) return;
    this.clearReconnect();
    this.openTransport();
  }

  /**
   * Sends a message; it is stored exactly once however often it has to be resent. The returned
   * `acked` resolves with the stored message (its echo). Sent while disconnected, it waits and
   * goes out after the next welcome. Throws an ApiError (1008) for a frame too large to send.
   */
  send(message: OutgoingMessage & { clientMsgId?: string }): SentMessage {
    const { clientMsgId, ...fields } = message;
    if (this.options.endpoint.kind === 'chat' && !fields.conversation) {
      throw new ApiError(ErrorCode.InvalidParameter, 0, 'a message on /api/chat names its conversation');
    }
    const { entry, sent } = this.outbox.add(fields, clientMsgId);
    if (this.welcomed && entry.sentAt === undefined && entry.retryTimer === undefined) this.transmit(entry);
    return sent;
  }

  /**
   * Sends a frame as it is, untracked: nothing is resent (tests of hostile input). Like
   * WebSocket.send after a close, it is dropped when not connected; answers whether it went out.
   */
  sendRaw(text: string): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /**
   * Part 2: "typing…" in a conversation; dropped when not connected (it is only a hint). Answers
   * whether it went out, so a caller that sends one every few seconds tries again on the next
   * keystroke instead of waiting out its interval after one that was dropped.
   */
  typing(conversation: ConversationId): boolean {
    this.requirePart2('typing');
    if (!this.welcomed || !this.ws) return false;
    this.ws.send(JSON.stringify({ conversation, msg_type: MsgType.Typing }));
    return true;
  }

  /** Part 2: moves the read cursor (msg_type 9); the newest per conversation goes out when connected. */
  markRead(conversation: ConversationId, lastReadId: number): void {
    this.requirePart2('markRead');
    this.pendingReads.set(conversation, Math.max(lastReadId, this.pendingReads.get(conversation) ?? 0));
    if (this.welcomed) this.flushReads();
  }

  /**
   * Part 2: follows a conversation from `lastId` on (the global `group` room is delivered only
   * once named). Sent now when connected, and in every later resume frame.
   */
  follow(conversation: ConversationId, lastId: number): void {
    this.requirePart2('follow');
    if (this.lastIds.has(conversation)) return;
    this.lastIds.set(conversation, lastId);
    if (this.welcomed) this.ws?.send(JSON.stringify({ msg_type: MsgType.Resume, conversations: { [conversation]: lastId } }));
  }

  // ---- connection lifecycle ----

  private openTransport(): void {
    this.reconnectTimer = undefined;
    const token = this.options.token();
    if (!token) {
      this.stop({ state: 'closed', needsLogin: true });
      return;
    }
    const { url, protocols } = this.handshake(token);
    this.opened = false;
    this.welcomed = false;
    this.setState({ state: this.everWelcomed ? 'reconnecting' : 'connecting', attempt: this.attempt });
    let ws: WebSocketLike;
    try {
      ws = this.options.createWebSocket
        ? this.options.createWebSocket(url, protocols, token)
        : new (this.options.WebSocket ?? platformWebSocket()!)(url, protocols);
    } catch (err) {
      // A malformed URL is not going to get better.
      this.stop({ state: 'closed' }, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (event: { data: unknown }) => this.onData(ws, event.data);
    ws.onclose = (event: { code?: number; reason?: string }) => this.onClose(ws, event.code ?? 1006, event.reason ?? '');
    // A failed handshake or a broken connection is followed by a close event, handled there.
    ws.onerror = () => {};
  }

  private handshake(token: string): { url: string; protocols: string[] | undefined } {
    const endpoint = this.options.endpoint;
    const path = endpoint.kind === 'group' ? '/api/chat_groups' : endpoint.kind === 'private' ? '/api/chat_private' : '/api/chat';
    const query = new URLSearchParams();
    if (endpoint.kind === 'private') query.set('target_id', endpoint.targetId);
    const lastId = this.lastIds.get('');
    if (endpoint.kind !== 'chat' && lastId !== undefined) query.set('last_id', String(lastId));
    const tokenIn = this.options.tokenIn ?? 'query';
    if (tokenIn === 'query') query.set('Authorization', `bearer ${token}`);
    const search = query.toString().replace(/\+/g, '%20');
    return {
      url: `${this.options.url.replace(/^http/, 'ws').replace(/\/$/, '')}${path}${search ? `?${search}` : ''}`,
      protocols: tokenIn === 'subprotocol' ? ['bearer', token] : undefined,
    };
  }

  private onOpen(ws: WebSocketLike): void {
    if (ws !== this.ws) return;
    this.opened = true;
    this.failedHandshakes = 0;
    // Part 2: ask for everything after what we have; the caught-up notice is the welcome.
    if (this.options.endpoint.kind === 'chat') this.sendResume(ws);
  }

  private sendResume(ws: WebSocketLike, only?: string[]): void {
    const conversations = only ? only.map((c) => [c, this.lastIds.get(c) ?? 0]) : [...this.lastIds];
    ws.send(JSON.stringify({ msg_type: MsgType.Resume, conversations: Object.fromEntries(conversations) }));
  }

  private onData(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.ws || typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    this.emit('frame', frame, data);
    switch (frame.msg_type) {
      case MsgType.System:
        this.onSystem(frame as SystemNotice);
        return;
      case MsgType.InRoom:
      case MsgType.OutRoom:
        this.emit('presence', { ...(frame as PresenceNotice), conversation: conversationOf(frame as PresenceNotice, this.fallbackConversation()) });
        return;
      case MsgType.Typing:
        this.emit('typing', frame as TypingFrame);
        return;
      case MsgType.Read:
        this.emit('read', frame as ReadFrame);
        return;
      case MsgType.RoomEvent:
        this.emit('roomEvent', frame as RoomEventFrame);
        return;
      default:
        if (isChatFrame(frame)) this.onChat(frame);
    }
  }

  private onSystem(frame: SystemNotice): void {
    const own = this.outbox.get(frame.client_msg_id);
    if (own && frame.code !== ErrorCode.Ok) {
      const error = this.outbox.refuse(own, frame.code, frame.content, (entry) => {
        if (this.welcomed) this.transmit(entry);
      });
      if (error) this.emit('sendFailed', own.clientMsgId, error);
      this.emit('error', frame);
      return;
    }
    const failedConversation = this.options.endpoint.kind === 'chat' ? ConversationRetry.failedConversation(frame) : undefined;
    if (failedConversation !== undefined && this.lastIds.has(failedConversation)) {
      const ws = this.ws;
      this.conversationRetry.add(failedConversation, (conversations) => ws && ws === this.ws && this.sendResume(ws, conversations));
      this.emit('error', frame);
      return;
    }
    if (!this.welcomed && this.options.endpoint.kind === 'chat' && ResumeRetry.failed(frame)) {
      const ws = this.ws;
      this.resumeRetry.schedule(() => ws && ws === this.ws && !this.welcomed && this.sendResume(ws));
      this.emit('error', frame);
      return;
    }
    if (!this.welcomed && frame.code === ErrorCode.Ok && !frame.client_msg_id && !frame.conversation) {
      this.onWelcome(frame);
      return;
    }
    if (frame.code === ErrorCode.Ok && !frame.client_msg_id && !frame.conversation) this.conversationRetry.caughtUp();
    this.emit(frame.code === ErrorCode.Ok ? 'notice' : 'error', frame);
  }

  private onWelcome(frame: SystemFrame): void {
    this.welcomed = true;
    this.resumeRetry.reset();
    this.everWelcomed = true;
    this.attempt = 0;
    this.setState({ state: 'open' });
    this.firstWelcome?.resolve();
    this.firstWelcome = undefined;
    this.emit('welcome', frame);
    // After the catch-up: whatever it already acknowledged is not sent again.
    for (const entry of this.outbox.unsent()) this.transmit(entry);
    this.flushReads();
    this.startAckTimer();
  }

  private onChat(frame: ChatFrame & { conversation?: string }): void {
    const message = asChatMessage(frame, this.fallbackConversation());
    if (this.options.endpoint.kind === 'private' && frame.target_id) this.learnedConversation ??= message.conversation;
    const own = this.outbox.get(frame.client_msg_id);
    if (own && (!this.options.selfId || frame.user_id === this.options.selfId)) {
      this.outbox.acknowledge(own, message);
      this.emit('ack', own.clientMsgId, message);
    }
    const key = this.options.endpoint.kind === 'chat' ? message.conversation : '';
    const last = this.lastIds.get(key);
    // Ids grow in each conversation's order and delivery keeps it: anything not newer was seen
    // (a resume overlapping what arrived live, or the stored original echoed to a resend).
    if (last !== undefined && frame.id <= last) return;
    this.lastIds.set(key, frame.id);
    this.emit('message', message);
  }

  private onClose(ws: WebSocketLike, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.detach(ws);
    this.ws = undefined;
    this.resumeRetry.reset();
    this.conversationRetry.reset();
    const wasOpened = this.opened;
    this.welcomed = false;
    this.stopAckTimer();
    this.outbox.connectionLost();
    if (this.closedByUser) return;

    if (needsNewLogin(code)) {
      this.stop({ state: 'closed', code, needsLogin: true });
      return;
    }
    if (code === CloseCode.MessageTooBig) {
      const dropped = this.outbox.dropLargest();
      if (dropped) this.emit('sendFailed', dropped.clientMsgId, dropped.error);
    }
    if (this.options.reconnect === false) {
      this.stop({ state: 'closed', code }, new Error(`closed (${code}${reason ? ` ${reason}` : ''}) before the welcome notice`));
      return;
    }
    if (!wasOpened) this.failedHandshakes += 1;
    if (!wasOpened && this.options.checkToken && this.failedHandshakes >= FAILED_HANDSHAKES_BEFORE_TOKEN_CHECK) {
      // A refused upgrade looks like any network failure to a browser: ask over HTTP whether it is the token.
      this.checkingToken = true;
      this.setState({ state: 'reconnecting', code, attempt: this.attempt });
      const resume = (good: boolean) => {
        this.checkingToken = false;
        if (this.closedByUser || this.ws || this.reconnectTimer !== undefined) return;
        if (good) this.scheduleReconnect(code);
        else this.stop({ state: 'closed', code, needsLogin: true });
      };
      // A failed check (network down too) is not a verdict on the token.
      this.options.checkToken().then(resume, () => resume(true));
      return;
    }
    this.scheduleReconnect(code);
  }

  private scheduleReconnect(code: number): void {
    const action = closeAction(code, this.attempt, this.options.reconnect || {}, this.random);
    if (action.kind === 'login') return this.stop({ state: 'closed', code, needsLogin: true });
    if (action.counts) this.attempt += 1;
    this.setState({ state: 'reconnecting', code, delayMs: action.delayMs, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => this.openTransport(), action.delayMs);
  }

  /** Stops for good (until `connect()`), telling listeners why. */
  private stop(change: StateChange, error?: Error): void {
    this.clearReconnect();
    this.stopAckTimer();
    const wasClosed = this.currentState === 'closed';
    this.setState(change);
    if (this.firstWelcome) {
      const why = change.needsLogin ? new ApiError(ErrorCode.NotAuthenticated, 401, 'the token is no longer accepted: log in again') : error;
      this.firstWelcome.reject(why ?? new Error('the socket was closed'));
      this.firstWelcome.promise.catch(() => {});
      this.firstWelcome = undefined;
    }
    if (!wasClosed) this.emit('closed', change);
  }

  // ---- sending ----

  private transmit(entry: OutboxEntry): void {
    if (this.ws?.readyState === OPEN) this.ws.send(this.outbox.markSent(entry));
  }

  private flushReads(): void {
    if (!this.ws || this.pendingReads.size === 0) return;
    for (const [conversation, lastReadId] of this.pendingReads) {
      this.ws.send(JSON.stringify({ conversation, msg_type: MsgType.Read, last_read_id: lastReadId }));
    }
    this.pendingReads.clear();
  }

  /** Browsers cannot ping: a send left without its echo is how a dead connection shows. */
  private startAckTimer(): void {
    if (this.options.reconnect === false) return;
    const timeout = this.options.ackTimeoutMs ?? 15_000;
    this.stopAckTimer();
    this.ackTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws || !this.outbox.overdue(timeout)) return;
      try {
        ws.close(ACK_TIMEOUT_CLOSE, 'no ack');
      } catch {
        // closing anyway
      }
      this.onClose(ws, ACK_TIMEOUT_CLOSE, 'no ack');
    }, Math.max(50, Math.floor(timeout / 3)));
  }

  private stopAckTimer(): void {
    if (this.ackTimer !== undefined) clearInterval(this.ackTimer);
    this.ackTimer = undefined;
  }

  // ---- helpers ----

  private setState(change: StateChange): void {
    this.currentState = change.state;
    this.emit('state', change);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    // Keep a no-op error handler: some implementations throw on an unhandled error event.
    ws.onerror = () => {};
  }

  /** Part 1 frames without a pair of ids (presence, notices) belong to the socket's conversation. */
  private fallbackConversation(): ConversationId {
    const endpoint = this.options.endpoint;
    if (endpoint.kind === 'private') return this.conversation ?? this.learnedConversation ?? `p:?:${endpoint.targetId}`;
    return GROUP_CONVERSATION;
  }

  private requirePart2(what: string): void {
    if (this.options.endpoint.kind !== 'chat') throw new Error(`ChatSocket.${what}: only on /api/chat (Part 2)`);
  }

}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
