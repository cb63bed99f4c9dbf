import { GROUP_CONVERSATION, isRoomConversation, type ConversationKind, type RoomRole } from '@im/protocol';
import type { ChatMessageWithPeople } from './chat-messages.ts';
import { MESSAGE_COLUMNS, MESSAGE_JOINS, toMessage, type PageRow } from './history-queries.ts';
import type { Queryable } from './memberships.ts';
import { maxOf, ownLastIdSql } from './read-cursors.ts';
import { fromSqlDateTime, toSqlDateTime } from './sql-time.ts';

/**
 * Unread counts stop at this many (`unread_capped` says so): a count is one index range read of
 * at most UNREAD_CAP + 1 entries, however far behind the reader is.
 */
export const UNREAD_CAP = 99;

/** Where a page of the inbox ends: the last entry's activity and conversation (newest first). */
export interface InboxCursor {
  activityAt: Date;
  conversation: string;
}

export interface InboxEntry {
  conversation: string;
  kind: ConversationKind;
  activityAt: Date;
  /** The read position (see read-cursors.ts: the stored cursor or the user's own last message). */
  lastReadId: bigint;
  lastMessage: ChatMessageWithPeople | null;
  /** Messages after `lastReadId`, at most UNREAD_CAP. */
  unreadCount: number;
  unreadCapped: boolean;
  room?: { roomId: string; name: string; ownerId: string; memberCount: number; role: RoomRole };
  peer?: { userId: string; username: string; avatar: string };
}

/** A conversation that has no row in `conversations` yet (group before its first message) sorts last. */
const NEVER = '1970-01-01 00:00:00.000';

interface PageItem {
  conversation: string;
  activity: string | Date;
  last_seq: bigint;
  role: RoomRole | null;
  peer_id: string | null;
  last_read_id: bigint;
  own_last_id: bigint;
  room_name: string | null;
  room_owner_id: string | null;
  room_member_count: number | null;
  peer_username: string | null;
  peer_avatar: string | null;
}

/**
 * One page of `userId`'s conversations, newest activity first: `group`, every room they belong
 * to, every private chat with at least one message. Three statements, the last two in parallel:
 * the page (membership rows by the user index, sorted; no row per message anywhere), the last
 * message of each (seq = last_seq, unique index) and the unread counts (one capped index range
 * per conversation). `next` is set when more entries follow.
 */
export async function inboxPage(
  sql: Queryable,
  userId: string,
  { limit, before }: { limit: number; before?: InboxCursor },
): Promise<{ entries: InboxEntry[]; next?: InboxCursor }> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`inboxPage: limit must be a positive integer, got ${limit}`);
  const cursor = before ? [toSqlDateTime(before.activityAt), before.conversation] : [null, null];
  const items = await sql.query<PageItem[]>(
    `SELECT page.*, (${ownLastIdSql('page.conversation', '?')}) AS own_last_id,
            r.name AS room_name, r.owner_id AS room_owner_id, r.member_count AS room_member_count,
            p.username AS peer_username, p.avatar AS peer_avatar
     FROM (
       SELECT * FROM (
         SELECT m.conversation, c.last_activity_at AS activity, c.last_seq, m.role, m.peer_id, m.last_read_id
         FROM conversation_members m JOIN conversations c ON c.conversation = m.conversation
         WHERE m.user_id = ? AND m.conversation <> 'group' AND (m.peer_id IS NULL OR c.last_seq > 0)
         UNION ALL
         SELECT 'group', COALESCE(c.last_activity_at, ?), COALESCE(c.last_seq, 0), NULL, NULL, COALESCE(m.last_read_id, 0)
         FROM (SELECT 1 AS one) one
         LEFT JOIN conversations c ON c.conversation = 'group'
         LEFT JOIN conversation_members m ON m.conversation = 'group' AND m.user_id = ?
       ) mine
       WHERE ? IS NULL OR mine.activity < ? OR (mine.activity = ? AND mine.conversation < ?)
       ORDER BY mine.activity DESC, mine.conversation DESC
       LIMIT ?
     ) page
     LEFT JOIN rooms r ON page.conversation LIKE 'r:%' AND r.room_id = SUBSTRING(page.conversation, 3)
     LEFT JOIN users p ON p.user_id = page.peer_id
     ORDER BY page.activity DESC, page.conversation DESC`,
    [userId, userId, NEVER, userId, cursor[0], cursor[0], cursor[0], cursor[1], limit + 1],
  );
  const more = items.length > limit;
  const page = items.slice(0, limit);
  const readUpTo = page.map((item) => maxOf(BigInt(item.last_read_id), BigInt(item.own_last_id)));
  const [lastMessages, unread] = await Promise.all([lastMessagesOf(sql, page), unreadCounts(sql, page, readUpTo)]);

  const entries = page.map((item, i): InboxEntry => {
    const kind: ConversationKind =
      item.conversation === GROUP_CONVERSATION ? 'group' : isRoomConversation(item.conversation) ? 'room' : 'private';
    const entry: InboxEntry = {
      conversation: item.conversation,
      kind,
      activityAt: fromSqlDateTime(item.activity),
      lastReadId: readUpTo[i]!,
      lastMessage: lastMessages.get(item.conversation) ?? null,
      unreadCount: Math.min(unread[i]!, UNREAD_CAP),
      unreadCapped: unread[i]! > UNREAD_CAP,
    };
    if (kind === 'room' && item.room_name !== null) {
      entry.room = {
        roomId: item.conversation.slice(2),
        name: item.room_name,
        ownerId: item.room_owner_id!,
        memberCount: Number(item.room_member_count),
        role: item.role!,
      };
    }
    if (kind === 'private' && item.peer_id !== null) {
      entry.peer = { userId: item.peer_id, username: item.peer_username ?? item.peer_id, avatar: item.peer_avatar ?? '' };
    }
    return entry;
  });
  const last = entries.at(-1);
  return more && last ? { entries, next: { activityAt: last.activityAt, conversation: last.conversation } } : { entries };
}

/** The message with seq = last_seq of each conversation that has one, in one statement. */
async function lastMessagesOf(sql: Queryable, items: PageItem[]): Promise<Map<string, ChatMessageWithPeople>> {
  const withMessages = items.filter((item) => BigInt(item.last_seq) > 0n);
  if (withMessages.length === 0) return new Map();
  const rows = await sql.query<PageRow[]>(
    `SELECT ${MESSAGE_COLUMNS.sql}
     FROM chat_messages m
     ${MESSAGE_JOINS.sql}
     WHERE ${withMessages.map(() => '(m.conversation = ? AND m.seq = ?)').join(' OR ')}`,
    withMessages.flatMap((item) => [item.conversation, item.last_seq]),
  );
  return new Map(rows.map((row) => [row.conversation, toMessage(row)]));
}

/**
 * Messages after each read position, counted up to UNREAD_CAP + 1: a derived table with a LIMIT
 * per conversation, so each count reads at most that many entries of (conversation, id).
 */
async function unreadCounts(sql: Queryable, items: PageItem[], readUpTo: bigint[]): Promise<number[]> {
  const counted = items.map((item, i) => ({ i, item })).filter(({ item }) => BigInt(item.last_seq) > 0n);
  const counts = items.map(() => 0);
  if (counted.length === 0) return counts;
  const rows = await sql.query<Array<{ i: number | bigint; n: number | bigint }>>(
    counted
      .map(
        ({ i }) =>
          `SELECT ${i} AS i, COUNT(*) AS n FROM (SELECT 1 FROM chat_messages FORCE INDEX (chat_messages_conversation_id_idx)
           WHERE conversation = ? AND id > ? LIMIT ${UNREAD_CAP + 1}) t${i}`,
      )
      .join(' UNION ALL '),
    counted.flatMap(({ i, item }) => [item.conversation, readUpTo[i]]),
  );
  for (const row of rows) counts[Number(row.i)] = Number(row.n);
  return counts;
}
