import type { ConversationId, PublicUser } from '@im/client';

/**
 * Everything the screens ask of the server, in one place. The UI only talks to this interface
 * and reads the chat store; which endpoints sit behind it is the transport's business.
 *
 * Today's implementation is Part 1 (part1-transport.ts): a socket for the group room and one per
 * private chat that is open, history over HTTP, presence from join/leave frames, and a poll for
 * private messages from people whose chat is not open. Part 2 (`/api/chat`, the inbox, rooms,
 * unread counts, typing, read state) replaces that module with one socket per device; the SDK
 * already speaks it (`im.chatSocket`, `im.conversations`, `im.rooms`).
 */
export interface ChatTransport {
  /** Loads the first screen (group history, people) and connects. */
  start(): Promise<void>;
  /** Closes every connection (sign-out). */
  stop(): void;
  /** Shows a conversation, loading its history and following it live. */
  openGroup(): Promise<void>;
  openPrivate(peer: PublicUser): Promise<ConversationId>;
  /** One more page of older messages. */
  loadOlder(id: ConversationId): Promise<void>;
  sendText(id: ConversationId, text: string): void;
  /** Uploads with progress (shown in the store), then sends it as an image or file message. */
  sendFile(id: ConversationId, file: File): Promise<void>;
  /** Sends a failed message again (same client_msg_id: stored at most once). */
  retry(id: ConversationId, clientMsgId: string): void;
  loadMorePeople(): Promise<void>;
  /** Skips the reconnect backoff wait. */
  reconnectNow(): void;
}
