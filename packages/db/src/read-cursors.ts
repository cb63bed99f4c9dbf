import type { ParsedConversation } from '@im/protocol';
import type { Queryable } from './memberships.ts';
import { roomMemberCount } from './rooms.ts';
import { toSqlDateTime } from './sql-time.ts';

/**
 * How far a user has read a conversation, as clients see it: the stored cursor, or the id of the
 * user's own latest message there if that is newer. Sending a message counts as having read
 * everything before it (as in Slack, Telegram and WhatsApp), and it keeps unread counts cheap:
 * every message after this point is someone else's, so counting them needs no sender check and
 * reads at most the cap's worth of index entries (see inbox.ts).
 */
export function ownLastIdSql(conversation: string, senderId: string): string {
  // The newest end of one (conversation, sender) range of the index: one entry read.
  return `SELECT COALESCE(MAX(o.id), 0) FROM chat_messages o FORCE INDEX (chat_messages_conversation_sender_id_id_idx)
    WHERE o.conversation = ${conversation} AND o.sender_id = ${senderId}`;
}

export type ReadCursorMove =
  /** `lastReadId` is the read position after the call; `moved` says whether it advanced. */
  | { kind: 'ok'; moved: boolean; lastReadId: bigint }
  /** No message with that id in this conversation: the contract's 1002. */
  | { kind: 'not-in-conversation' }
  /** A room the user is not a member of (left or removed meanwhile): 404. */
  | { kind: 'not-member' };

/**
 * Moves `userId`'s read cursor in `conversation` to `messageId`, never backwards. The caller has
 * checked that the user may see a private chat (or the group); a room's membership is checked here. For `group` and private chats the row is made
 * if missing (a group row exists only once its cursor moved); in a room only a member's row is
 * updated, so a member removed meanwhile cannot come back through here.
 */
export async function moveReadCursor(sql: Queryable, userId: string, conversation: ParsedConversation, messageId: bigint): Promise<ReadCursorMove> {
  const [before] = await sql.query<Array<{ conversation: string | null; stored: bigint | null; own: bigint }>>(
    `SELECT (SELECT conversation FROM chat_messages WHERE id = ?) AS conversation,
            (SELECT last_read_id FROM conversation_members WHERE conversation = ? AND user_id = ?) AS stored,
            (${ownLastIdSql('?', '?')}) AS own`,
    [messageId, conversation.id, userId, conversation.id, userId],
  );
  // Membership first: a non-member learns nothing about the message id.
  if (conversation.kind === 'room' && (!before || before.stored === null)) return { kind: 'not-member' };
  if (!before || before.conversation !== conversation.id) return { kind: 'not-in-conversation' };
  const own = BigInt(before.own);
  const current = maxOf(BigInt(before.stored ?? 0n), own);
  if (messageId <= current) return { kind: 'ok', moved: false, lastReadId: current };

  if (conversation.kind === 'room') {
    const result = await sql.query<{ affectedRows: number }>(
      'UPDATE conversation_members SET last_read_id = GREATEST(last_read_id, ?) WHERE conversation = ? AND user_id = ?',
      [messageId, conversation.id, userId],
    );
    if (result.affectedRows === 0) return { kind: 'not-member' };
  } else {
    const peer = conversation.kind === 'private' ? conversation.userIds.find((id) => id !== userId)! : null;
    await sql.query(
      `INSERT INTO conversation_members (conversation, user_id, peer_id, joined_at, last_read_id) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE last_read_id = GREATEST(last_read_id, VALUES(last_read_id))`,
      [conversation.id, userId, peer, toSqlDateTime(new Date()), messageId],
    );
  }
  return { kind: 'ok', moved: true, lastReadId: messageId };
}

export function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** How far a conversation has been read, by the user and by the others in it (see readPositions). */
export interface ReadPositions {
  /** The user's read position, as the inbox gives it. */
  own: bigint;
  /** The furthest any other member has read; null where receipts do not go to others (see below). */
  others: bigint | null;
}

/**
 * Where `userId` and the others of a visible conversation have read up to: what a client that
 * was away when the read receipts (msg_type 9) went out needs to draw its read marks. A member's
 * position is as for the user: their cursor or their own last message, whichever is later; one
 * primary-key range of the members and one index entry each (at most `othersUpToMembers` of
 * them). `others` is null in the group and in rooms larger than `othersUpToMembers`, where
 * receipts are not relayed to the others either.
 */
export async function readPositions(sql: Queryable, userId: string, conversation: ParsedConversation, othersUpToMembers: number): Promise<ReadPositions> {
  const ownSql = `GREATEST(COALESCE((SELECT last_read_id FROM conversation_members WHERE conversation = ? AND user_id = ?), 0), (${ownLastIdSql('?', '?')}))`;
  const ownParams = [conversation.id, userId, conversation.id, userId];
  const withOthers =
    conversation.kind === 'private' ||
    (conversation.kind === 'room' && (await roomMemberCount(sql, conversation.roomId)) <= othersUpToMembers);
  if (!withOthers) {
    const [row] = await sql.query<Array<{ own: bigint }>>(`SELECT ${ownSql} AS own`, ownParams);
    return { own: BigInt(row?.own ?? 0), others: null };
  }
  const [row] = await sql.query<Array<{ own: bigint; others: bigint | null }>>(
    `SELECT ${ownSql} AS own,
            (SELECT COALESCE(MAX(GREATEST(m.last_read_id, (${ownLastIdSql('m.conversation', 'm.user_id')}))), 0)
             FROM conversation_members m WHERE m.conversation = ? AND m.user_id <> ?) AS others`,
    [...ownParams, conversation.id, userId],
  );
  return { own: BigInt(row?.own ?? 0), others: BigInt(row?.others ?? 0) };
}
