import type { ChatFrame, FileInfo } from './frames.ts';
import { MsgType } from './msg-types.ts';
import type { RoomEvent, RoomRole, RoomSummary } from './rooms.ts';

// Part 2 frames (CONTRACT.md, "One socket per device"). Every frame about one conversation
// carries `conversation`; Part 1 frames are built elsewhere and never change.

/** Part 2's file object: Part 1's plus `url`, a signed link that works without a header. */
export interface ConversationFileInfo extends FileInfo {
  /** `api/files/download?file=…&expires=…&sig=…`, relative like `path`; valid for a limited time. */
  url: string;
}

/** A stored message as Part 2 shows it: `conversation` first, then Part 1's frame. */
export type ConversationChatFrame = { conversation: string } & Omit<ChatFrame, 'file'> & { file?: ConversationFileInfo };

/** Signs a download link for a stored file name (see @im/auth `createFileLinks`). */
export type FileUrlSigner = (fileName: string) => string;

/**
 * The Part 2 frame of a message: Part 1's frame with `conversation` in front and, for file and
 * image messages, the file's signed `url`. The one place Part 2 message frames are made, for the
 * inbox, per-conversation history and (later) `ws /api/chat`.
 */
export function conversationFrame(frame: ChatFrame, conversation: string, signUrl: FileUrlSigner): ConversationChatFrame {
  const { file, ...rest } = frame;
  const out: ConversationChatFrame = { conversation, ...rest };
  if (file) out.file = { ...file, url: signUrl(file.name) };
  return out;
}

/** msg_type 11, server → client: a room's membership or name changed. Not stored. */
export interface RoomEventFrame {
  conversation: string;
  msg_type: typeof MsgType.RoomEvent;
  event: RoomEvent;
  /** The room right after the change. */
  room: RoomSummary;
  /** The member the event is about (absent for `created` and `renamed`). */
  user_id?: string;
  /** `member_added`: the new member's role; `role_changed`: the role now held. */
  role?: RoomRole;
  /** Who made the change (`user_id` itself when a member left). */
  by: string;
  date: string;
}

export function roomEventFrame(fields: {
  conversation: string;
  event: RoomEvent;
  room: RoomSummary;
  userId?: string;
  role?: RoomRole;
  by: string;
  date?: Date;
}): RoomEventFrame {
  // Key order is the order clients see: the contract's, with `role` next to `user_id`.
  return {
    conversation: fields.conversation,
    msg_type: MsgType.RoomEvent,
    event: fields.event,
    room: fields.room,
    ...(fields.userId === undefined ? {} : { user_id: fields.userId }),
    ...(fields.role === undefined ? {} : { role: fields.role }),
    by: fields.by,
    date: (fields.date ?? new Date()).toISOString(),
  };
}

/** msg_type 8, client → server: "I am typing here". */
export interface TypingRequest {
  conversation: string;
  msg_type: typeof MsgType.Typing;
}

/** msg_type 8, server → client: relayed (at most one per user and conversation every 2 s), never stored. */
export interface TypingFrame {
  conversation: string;
  msg_type: typeof MsgType.Typing;
  user_id: string;
  username: string;
  date: string;
}

/** @public The relayed typing frame (for the gateway's `ws /api/chat`). */
export function typingFrame(conversation: string, userId: string, username: string, date = new Date()): TypingFrame {
  return { conversation, msg_type: MsgType.Typing, user_id: userId, username, date: date.toISOString() };
}

/** msg_type 9, client → server: move my read cursor (as `POST /api/conversations/<c>/read`). */
export interface ReadRequest {
  conversation: string;
  msg_type: typeof MsgType.Read;
  last_read_id: number;
}

/** msg_type 9, server → client: someone's read cursor in a conversation moved. */
export interface ReadFrame {
  conversation: string;
  msg_type: typeof MsgType.Read;
  user_id: string;
  last_read_id: number;
  date: string;
}

/** @public The read receipt frame (for the gateway's `ws /api/chat`). */
export function readFrame(conversation: string, userId: string, lastReadId: number, date = new Date()): ReadFrame {
  return { conversation, msg_type: MsgType.Read, user_id: userId, last_read_id: lastReadId, date: date.toISOString() };
}

/**
 * msg_type 10, client → server: for each conversation, the last message id the client saw (0 for
 * none). The server sends what came after, then live frames, then a "caught up" notice.
 */
export interface ResumeRequest {
  msg_type: typeof MsgType.Resume;
  conversations: Record<string, number>;
}

/**
 * A message a client sends (text 4, file 5, image 7; 6 is relayed upload progress). Part 1
 * sockets take it as it is; on `ws /api/chat` it names its `conversation`. The server's echo (the
 * stored frame, same `client_msg_id`) is the acknowledgement.
 */
export interface SendRequest {
  /** Part 2 only: where it goes (`group`, `r:<room_id>`, `p:<a>:<b>`). */
  conversation?: string;
  msg_type: 4 | 5 | 6 | 7;
  content: string;
  client_msg_id?: string;
  /** File and image messages: the `file_name` of an upload. */
  file?: { name: string };
}
