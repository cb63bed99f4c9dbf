import { roomChannel, userChannel } from '@im/bus';
import { moveReadCursor } from '@im/db';
import { ErrorCode, privatePeer, readFrame, typingFrame, type ParsedConversation } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';
import type { ChatContext } from './chat-context.ts';
import { sendConversationNotice } from './conversation-errors.ts';

const NOT_FOUND = '会话不存在或你不在其中';

/**
 * msg_type 8: relayed, never stored, to the others in the conversation (their every socket), at
 * most once per user and conversation every 2 s. Private chats: on the peer's channel (one
 * publish). Rooms up to the notice limit: on the room's channel, skipping the typist's sockets.
 * Not relayed in larger rooms, nor in the group (it can be very large).
 */
export async function relayTyping(ctx: ChatContext, connection: Connection, conversation: ParsedConversation): Promise<void> {
  if (conversation.kind === 'group') return;
  let channel: string;
  if (conversation.kind === 'private') {
    const peerId = await existingPeer(ctx, connection, conversation);
    if (peerId === undefined) return sendConversationNotice(connection, ErrorCode.NotFound, NOT_FOUND, conversation.id);
    channel = userChannel(peerId);
  } else {
    if (!ctx.devices.subscriptionsOf(connection).has(conversation.id)) return sendConversationNotice(connection, ErrorCode.NotFound, NOT_FOUND, conversation.id);
    if ((await ctx.roomSizes.of(conversation.roomId)) > ctx.noticeMaxMembers) return;
    channel = roomChannel(conversation.id);
  }
  if (!ctx.typing.admit(connection.userId, conversation.id)) return;
  const frame = typingFrame(conversation.id, connection.userId, connection.user.username);
  await ctx.publisher.transient(conversation.id, JSON.stringify(frame), [channel]);
}

/**
 * msg_type 9: as `POST /api/conversations/<c>/read`. When the cursor moved, a receipt goes to
 * the user's devices and, in private chats and rooms up to the notice limit, to the other
 * members: private on both users' channels, a room on its channel, otherwise the user's own.
 */
export async function moveRead(ctx: ChatContext, connection: Connection, conversation: ParsedConversation, lastReadId: bigint): Promise<void> {
  // A room's membership is checked by moveReadCursor's own statement (first, so a non-member
  // learns nothing about the id): no query of its own here, as read frames come by hundreds a second.
  if (conversation.kind === 'private' && (await existingPeer(ctx, connection, conversation)) === undefined) {
    return sendConversationNotice(connection, ErrorCode.NotFound, NOT_FOUND, conversation.id);
  }
  const moved = await moveReadCursor(ctx.sql, connection.userId, conversation, lastReadId);
  if (moved.kind === 'not-member') return sendConversationNotice(connection, ErrorCode.NotFound, NOT_FOUND, conversation.id);
  if (moved.kind === 'not-in-conversation') {
    return sendConversationNotice(connection, ErrorCode.InvalidParameter, 'last_read_id: 不是这个会话的消息', conversation.id);
  }
  if (!moved.moved) return;
  let channels: string[];
  if (conversation.kind === 'private') channels = conversation.userIds.map(userChannel);
  else if (conversation.kind === 'room' && (await ctx.roomSizes.of(conversation.roomId)) <= ctx.noticeMaxMembers) channels = [roomChannel(conversation.id)];
  else channels = [userChannel(connection.userId)];
  const frame = readFrame(conversation.id, connection.userId, Number(moved.lastReadId));
  await ctx.publisher.transient(conversation.id, JSON.stringify(frame), channels);
}

/** The other user of a private chat the socket's user is one of, when that user exists (the user directory, not a statement). */
async function existingPeer(ctx: ChatContext, connection: Connection, conversation: ParsedConversation): Promise<string | undefined> {
  const peerId = privatePeer(conversation, connection.userId);
  return peerId !== undefined && (await ctx.users.get(peerId)) ? peerId : undefined;
}
