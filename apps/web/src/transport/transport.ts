import type { ConversationId, RoomDetails } from '@im/client';
import type { Person } from '../state/chat-store.ts';

/**
 * Everything the screens ask of the server, in one place. The UI only talks to this interface
 * and reads the chat store; which endpoints sit behind it is the transport's business.
 *
 * Two implementations share the HTTP side of Part 2 (conversations.ts: the inbox, history per
 * conversation, read cursors, rooms) and differ in how messages travel live:
 * - part2-transport.ts: one socket per device (`/api/chat`): every conversation, typing, read
 *   state, room events;
 * - part1-transport.ts: Part 1's sockets (the group room, one per open private chat) for servers
 *   without `/api/chat`; rooms are then read over HTTP and cannot be written to.
 * index.ts picks one by asking the server.
 */
export interface ChatTransport {
  /** Loads the first screen (the inbox, the group's history, people) and connects. */
  start(): Promise<void>;
  /** Closes every connection (sign-out). */
  stop(): void;
  /** Shows a conversation of the list, loading its history and following it live. */
  open(id: ConversationId): Promise<void>;
  /** Shows the private chat with someone (from the list of people). */
  openPrivate(peer: Person): Promise<ConversationId>;
  /** One more page of older messages. */
  loadOlder(id: ConversationId): Promise<void>;
  /** The conversation is on screen: moves my read cursor to its newest message. */
  markViewed(id: ConversationId): void;
  sendText(id: ConversationId, text: string): void;
  /** Uploads with progress (shown in the store), then sends it as an image or file message. */
  sendFile(id: ConversationId, file: File): Promise<void>;
  /** Sends a failed message again (same client_msg_id: stored at most once). */
  retry(id: ConversationId, clientMsgId: string): void;
  /** "I am typing" (Part 2 only; at most one every 2 s goes out). */
  typing(id: ConversationId): void;
  loadMorePeople(): Promise<void>;
  /** Skips the reconnect backoff wait. */
  reconnectNow(): void;
  /** Rooms: create (and show it), look at members, add, remove, leave. Errors are ApiErrors. */
  createRoom(name: string, memberIds: string[]): Promise<ConversationId>;
  roomDetails(id: ConversationId): Promise<RoomDetails>;
  addMembers(id: ConversationId, userIds: string[]): Promise<void>;
  removeMember(id: ConversationId, userId: string): Promise<void>;
  leaveRoom(id: ConversationId): Promise<void>;
}
