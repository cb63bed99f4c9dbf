import { MsgType, privateConversation } from '@im/protocol';
import type { ChatFrame, PresenceFrame, ReadFrame, RoomEventFrame, SendRequest, SystemFrame, TypingFrame } from '@im/protocol';
import type { ChatMessage, ConversationId } from '../types.ts';

// The wire types live in @im/protocol, one place for servers and clients; the SDK re-exports
// them (index.ts) and adds only what a client makes of them: which conversation a frame belongs
// to on a Part 1 socket, and the ChatMessage it hands out.
export type { ReadFrame, RoomEventFrame, TypingFrame };
export type { RoomEvent as RoomEventKind, RoomSummary } from '@im/protocol';

/** Server frames carry `conversation` on `/api/chat` (Part 2); Part 1 sockets have one conversation. */
type InConversation<T> = T & { conversation?: ConversationId };

export type PresenceNotice = InConversation<PresenceFrame> & { conversation: ConversationId };

/** Errors and notices to this client only; Part 2 names the conversation they concern. */
export type SystemNotice = InConversation<SystemFrame>;

/** Anything a gateway may send, as parsed JSON. */
export type ServerFrame = InConversation<ChatFrame> | InConversation<PresenceFrame> | SystemNotice | TypingFrame | ReadFrame | RoomEventFrame;

/** A message to send: the wire's send frame without its `client_msg_id`, which the outbox assigns. */
export type OutgoingMessage = Omit<SendRequest, 'client_msg_id'>;

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
