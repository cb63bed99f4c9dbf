import type { BackoffOptions } from './backoff.ts';
import type { ApiError } from '../api-error.ts';
import type { ChatMessage, ConversationId } from '../types.ts';
import type {
  OutgoingMessage,
  PresenceNotice,
  ReadFrame,
  RoomEventFrame,
  ServerFrame,
  SystemNotice,
  TypingFrame,
} from './frames.ts';
import type { SystemFrame } from '@im/protocol';
import type { WebSocketConstructor, WebSocketFactory } from './web-socket.ts';

// The options, states and events of ChatSocket (chat-socket.ts): its contract with the app.

/**
 * Which chat endpoint: Part 1's group room or one private pair (one socket per conversation), or
 * Part 2's `/api/chat`, one socket per device carrying every conversation of the user.
 */
export type ChatEndpoint = { kind: 'group' } | { kind: 'private'; targetId: string } | { kind: 'chat' };

export type SocketState =
  /** Constructed; `connect()` not called yet. */
  | 'idle'
  /** First connection under way (until the welcome notice). */
  | 'connecting'
  /** In the room and caught up: messages flow, sends are acknowledged. */
  | 'open'
  /** Lost the connection; waiting out the backoff or re-handshaking. Sends are kept and resent. */
  | 'reconnecting'
  /** Stopped: `close()` was called, reconnecting is off, or the token is dead (`needsLogin`). */
  | 'closed';

export interface StateChange {
  state: SocketState;
  /** The close code that caused a `reconnecting` or `closed` state. */
  code?: number;
  /** While `reconnecting`: how long until the next attempt. */
  delayMs?: number;
  /** Consecutive failed attempts so far. */
  attempt?: number;
  /** `closed` because the token was revoked or expired (4001/4002) or refused: log in again. */
  needsLogin?: boolean;
}

export interface ChatSocketOptions {
  /** The server's ws(s) origin, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  endpoint: ChatEndpoint;
  /** The current token, read at every (re)connect; undefined stops with `needsLogin`. */
  token: () => string | undefined;
  /**
   * How the token travels: the `Authorization` query value (what browsers can do), the
   * subprotocols `bearer, <jwt>` (keeps it out of URLs), or `header`: nowhere the SDK writes, for
   * a `createWebSocket` that sends an Authorization header itself (Node only). @default 'query'
   */
  tokenIn?: 'query' | 'subprotocol' | 'header';
  /** The WebSocket class: `globalThis.WebSocket` by default; in Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** Builds each socket instead of `new WebSocket(url, protocols)` (Node: headers, Origin). */
  createWebSocket?: WebSocketFactory;
  /** Reconnect with backoff after a lost connection; `false` stops at the first close. @default {} */
  reconnect?: false | BackoffOptions;
  /** Source of jitter, [0, 1). @default Math.random */
  random?: () => number;
  /** The signed-in user: acks are only this user's frames, private keys are exact. */
  selfId?: string;
  /**
   * Part 1: the id of the last message of this conversation the client has (from history). Pass
   * it (0 for an empty conversation) and no message is ever missed; without it, a reconnect before
   * the first message arrives cannot ask for what it missed.
   */
  lastId?: number;
  /** Part 2: conversation → last id seen, named in every resume frame (msg_type 10). */
  lastIds?: Record<ConversationId, number>;
  /**
   * A sent message without its echo after this long means the connection is dead though no close
   * came (browsers cannot ping): drop it and reconnect, which resends. @default 15_000
   */
  ackTimeoutMs?: number;
  /** Tries per message when the server answers 1500 (not stored) or 1007 (too fast). @default 8 */
  maxSendAttempts?: number;
  /** Frames larger than this are refused locally: the gateway would close with 1009. @default 16_384 */
  maxFrameBytes?: number;
  /**
   * Asked after handshakes keep failing (a browser cannot see the HTTP status of a refused
   * upgrade): false means the token is no longer accepted, and the socket stops with `needsLogin`.
   */
  checkToken?: () => Promise<boolean>;
}

export interface SentMessage {
  clientMsgId: string;
  /** The stored message (the echo), or an ApiError when the server refused it for good. */
  acked: Promise<ChatMessage>;
}

export interface PendingMessage {
  clientMsgId: string;
  frame: OutgoingMessage & { client_msg_id: string };
}

export interface ChatSocketEvents extends Record<string, unknown[]> {
  /** Every frame exactly as received (parsed) plus its text, before any filtering. */
  frame: [frame: ServerFrame, text: string];
  state: [change: StateChange];
  /** In the room and caught up (Part 1's `code: 0` notice; Part 2's caught-up notice). */
  welcome: [frame: SystemFrame];
  /** A message not seen before on this socket, in conversation order (duplicates are dropped). */
  message: [message: ChatMessage];
  /** The server stored a message this socket sent. */
  ack: [clientMsgId: string, message: ChatMessage];
  /** The server refused a message for good (or after `maxSendAttempts`). */
  sendFailed: [clientMsgId: string, error: ApiError];
  /** A user came online (2) or left (3). */
  presence: [frame: PresenceNotice];
  /** An error frame (`code` ≠ 0) to this client. */
  error: [frame: SystemNotice];
  /** Any other notice (`code` 0) after the welcome. */
  notice: [frame: SystemNotice];
  typing: [frame: TypingFrame];
  read: [frame: ReadFrame];
  roomEvent: [frame: RoomEventFrame];
  /** Stopped for good; with `needsLogin`, a new token is needed before `connect()` again. */
  closed: [change: StateChange];
}
