import { inboxPage, type InboxEntry } from '@im/db';
import type { ConversationChatFrame, ConversationKind, RoomRole } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { decodeInboxCursor, encodeInboxCursor } from './inbox-cursor.ts';
import { toConversationFrames } from './part2-frames.ts';

/** How the global room is titled in the inbox (the original README calls it 群聊). */
const GROUP_TITLE = '群聊';

export interface InboxItem {
  conversation: string;
  kind: ConversationKind;
  title: string;
  avatar: string;
  last_message: ConversationChatFrame | null;
  unread_count: number;
  unread_capped: boolean;
  last_read_id: number;
  room?: { room_id: string; name: string; member_count: number; role: RoomRole };
  peer?: { user_id: string; user_name: string; avatar: string; online: boolean };
}

/**
 * `GET /api/conversations`: a page of the inbox. Peers' `online` comes from presence (a socket on
 * any gateway); if Redis cannot say in time, the page is still served, with every peer offline
 * (the socket's presence frames correct it), rather than failing the whole inbox.
 */
export async function listInbox(ctx: ApiContext, userId: string, query: { limit: number; before?: string | undefined }) {
  const before = query.before === undefined ? undefined : decodeInboxCursor(query.before);
  const sql = await ctx.inboxSql();
  const page = { limit: query.limit, before };
  const { entries, next } = await inboxPage(sql, userId, page).catch((err: unknown) => {
    // The replica went away after it was picked: the primary still answers.
    if (sql === ctx.sql) throw err;
    ctx.logger.warn({ err: { message: (err as Error)?.message } }, 'read replica failed; reading the primary');
    return inboxPage(ctx.sql, userId, page);
  });
  const peers = entries.flatMap((entry) => (entry.peer ? [entry.peer.userId] : []));
  const online = await ctx.onlineUsers.onlineUsers(peers).catch((err: unknown) => {
    ctx.logger.warn({ err: { message: (err as Error)?.message } }, 'presence unavailable for the inbox');
    return new Set<string>();
  });
  const frames = toConversationFrames(ctx, entries.flatMap((entry) => (entry.lastMessage ? [entry.lastMessage] : [])));
  const frameOf = new Map(frames.map((frame) => [frame.conversation, frame]));
  return {
    list: entries.map((entry) => toItem(entry, frameOf.get(entry.conversation) ?? null, online)),
    next: next ? encodeInboxCursor(next) : null,
  };
}

function toItem(entry: InboxEntry, lastMessage: ConversationChatFrame | null, online: Set<string>): InboxItem {
  const item: InboxItem = {
    conversation: entry.conversation,
    kind: entry.kind,
    title: entry.room?.name ?? entry.peer?.username ?? GROUP_TITLE,
    avatar: entry.peer?.avatar ?? '',
    last_message: lastMessage,
    unread_count: entry.unreadCount,
    unread_capped: entry.unreadCapped,
    last_read_id: Number(entry.lastReadId),
  };
  if (entry.room) {
    item.room = { room_id: entry.room.roomId, name: entry.room.name, member_count: entry.room.memberCount, role: entry.room.role };
  }
  if (entry.peer) {
    item.peer = { user_id: entry.peer.userId, user_name: entry.peer.username, avatar: entry.peer.avatar, online: online.has(entry.peer.userId) };
  }
  return item;
}
