import { MsgType, privateConversation } from '@im/protocol';
import type { ChatFrame, PresenceFrame, SystemFrame } from '@im/protocol';
import type { ChatMessage, ConversationId, Room } from '../types.ts';

/** Part 2 message types (CONTRACT.md "One socket per device"), next to Part 1's MsgType. */
export const Part2MsgType = {
  /** Both ways; relayed, never stored. */
  Typing: 8,
  /** Both ways: read cursor moves. */
  Read: 9,
  /** Client → server: catch up these conversations, then live. */
  Resume: 10,
  /** Server → client: room membership and name changes. */
  RoomEvent: 11,
} as const;

/** Server frames carry `conversation` on `/api/chat` (Part 2); Part 1 sockets have one conversation. */
type InConversation<T> = T & { conversation?: ConversationId };

export type PresenceNotice = InConversation<PresenceFrame> & { conversation: ConversationId };

/** `{conversation, msg_type: 8, user_id, username, date}` */
export interface TypingFrame {
  conversation: ConversationId;
  msg_type: 8;
  user_id: string;
  username: string;
  date: string;
}

/** `{conversation, msg_type: 9, user_id, last_read_id, date}` */
export interface ReadFrame {
  conversation: ConversationId;
  msg_type: 9;
  user_id: string;
  last_read_id: number;
  date: string;
}

export type RoomEventKind = 'created' | 'member_added' | 'member_removed' | 'role_changed' | 'renamed';

/** `{conversation, msg_type: 11, event, room, user_id?, by, date}` */
export interface RoomEventFrame {
  conversation: ConversationId;
  msg_type: 11;
  event: RoomEventKind;
  room: Room;
  user_id?: string;
  by: string;
  date: string;
}

/** Errors and notices to this client only; Part 2 names the conversation they concern. */
export type SystemNotice = InConversation<SystemFrame>;

/** Anything a gateway may send, as parsed JSON. */
export type ServerFrame = InConversation<ChatFrame> | InConversation<PresenceFrame> | SystemNotice | TypingFrame | ReadFrame | RoomEventFrame;

/** A frame a client sends to store a message (text 4, file 5, image 7; 6 is relayed progress). */
export interface OutgoingMessage {
  msg_type: 4 | 5 | 6 | 7;
  content: string;
  /** Part 2 only: where it goes. */
  conversation?: ConversationId;
  /** File and image frames: the `file_name` of an upload. */
  file?: { name: string };
}

export function isChatFrame(frame: ServerFrame): frame is InConversation<ChatFrame> {
  return typeof (frame as ChatFrame).id === 'number' && [MsgType.Text, MsgType.File, MsgType.FileProgress, MsgType.Image].includes((frame as ChatFrame).msg_type as 4);
}

/**
 * The conversation a Part 1 frame belongs to: the socket's own (group), or for a private socket
 * the pair of sender and target; Part 2 frames name it.
 */
export function conversationOf(frame: { conversation?: string; user_id?: string; target_id?: string }, fallback: ConversationId): ConversationId {
  if (frame.conversation) return frame.conversation;
  if (frame.target_id && frame.user_id) return privateConversation(frame.user_id, frame.target_id);
  return fallback;
}

export function asChatMessage(frame: InConversation<ChatFrame>, fallback: ConversationId): ChatMessage {
  return { ...frame, conversation: conversationOf(frame, fallback) } as ChatMessage;
}

