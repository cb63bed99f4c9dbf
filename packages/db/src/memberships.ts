import { privateConversation, privatePeer, type ParsedConversation, type RoomRole } from '@im/protocol';
import type { SqlRunner, SqlTx } from './sql-runner.ts';
import { toSqlDateTime } from './sql-time.ts';

/** Anything that runs a statement: the runner, or a transaction of it. */
export type Queryable = Pick<SqlRunner | SqlTx, 'query'>;

/** Where `visibleConversationsFrom` looks memberships and users up. */
export interface VisibilitySources {
  /** Of `rooms`, those `userId` is a member of. */
  memberRooms(userId: string, rooms: string[]): Promise<Iterable<string>>;
  /** Of `userIds`, those that exist. */
  existingUsers(userIds: string[]): Promise<Iterable<string>>;
}

/**
 * Which of `conversations` `userId` may see: read, send to, resume, upload for. `group` always;
 * a room while they are a member; a private chat when they are one of the two and the other
 * one exists. One statement per kind, however many conversations are asked about.
 */
export function visibleConversations(sql: Queryable, userId: string, conversations: readonly ParsedConversation[]): Promise<Set<string>> {
  return visibleConversationsFrom(sqlVisibility(sql), userId, conversations);
}

/** The same rule over other sources (a gateway's batched reads and user directory). */
export async function visibleConversationsFrom(sources: VisibilitySources, userId: string, conversations: readonly ParsedConversation[]): Promise<Set<string>> {
  const visible = new Set<string>();
  const rooms: string[] = [];
  const peers = new Map<string, string>();
  for (const conversation of conversations) {
    if (conversation.kind === 'group') visible.add(conversation.id);
    else if (conversation.kind === 'room') rooms.push(conversation.id);
    else {
      const peer = privatePeer(conversation, userId);
      if (peer) peers.set(peer, conversation.id);
    }
  }
  const [memberOf, existing] = await Promise.all([
    rooms.length === 0 ? [] : sources.memberRooms(userId, rooms),
    peers.size === 0 ? [] : sources.existingUsers([...peers.keys()]),
  ]);
  for (const room of memberOf) visible.add(room);
  for (const user of existing) visible.add(peers.get(user)!);
  return visible;
}

function sqlVisibility(sql: Queryable): VisibilitySources {
  return {
    async memberRooms(userId, rooms) {
      const rows = await sql.query<Array<{ conversation: string }>>(
        `SELECT conversation FROM conversation_members WHERE user_id = ? AND conversation IN (${placeholders(rooms)})`,
        [userId, ...rooms],
      );
      return rows.map((row) => row.conversation);
    },
    async existingUsers(userIds) {
      const rows = await sql.query<Array<{ user_id: string }>>(`SELECT user_id FROM users WHERE user_id IN (${placeholders(userIds)})`, userIds);
      return rows.map((row) => row.user_id);
    },
  };
}

/** `userId`'s role in the room, or undefined when they are not a member. */
export async function roomRole(sql: Queryable, conversation: string, userId: string): Promise<RoomRole | undefined> {
  const rows = await sql.query<Array<{ role: RoomRole }>>(
    'SELECT role FROM conversation_members WHERE conversation = ? AND user_id = ?',
    [conversation, userId],
  );
  return rows[0]?.role;
}

/**
 * The conversation ids of every room of each of `userIds` (what their sockets subscribe to, and
 * may resume), in one statement; a user in no room is absent from the map.
 */
export async function roomConversationsOf(sql: Queryable, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>();
  if (userIds.length === 0) return byUser;
  const rows = await sql.query<Array<{ user_id: string; conversation: string }>>(
    `SELECT user_id, conversation FROM conversation_members WHERE user_id IN (${placeholders(userIds)}) AND conversation LIKE 'r:%'`,
    [...userIds],
  );
  for (const row of rows) {
    const rooms = byUser.get(row.user_id);
    if (rooms) rooms.push(row.conversation);
    else byUser.set(row.user_id, [row.conversation]);
  }
  return byUser;
}

export interface PrivateChat {
  conversation: string;
  peerId: string;
}

/** `userId`'s private chats with at least one message, most recent activity first, at most `limit`. */
export async function privateChatsOf(sql: Queryable, userId: string, limit: number): Promise<PrivateChat[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`privateChatsOf: limit must be a positive integer, got ${limit}`);
  const rows = await sql.query<Array<{ conversation: string; peer_id: string }>>(
    `SELECT m.conversation, m.peer_id
     FROM conversation_members m JOIN conversations c ON c.conversation = m.conversation
     WHERE m.user_id = ? AND m.conversation LIKE 'p:%' AND c.last_seq > 0
     ORDER BY c.last_activity_at DESC, m.conversation DESC
     LIMIT ?`,
    [userId, limit],
  );
  return rows.map((row) => ({ conversation: row.conversation, peerId: row.peer_id }));
}

/**
 * The two membership rows of a private chat, made if missing: what puts the chat in both inboxes
 * and lets either side's sockets find it. Idempotent and one statement (INSERT IGNORE on the
 * primary key), so the gateway may call it for every private message it stores; a cache of pairs
 * it already ensured saves even that.
 */
export async function ensurePrivateChat(sql: Queryable, userA: string, userB: string, at = new Date()): Promise<void> {
  if (userA === userB) throw new RangeError('ensurePrivateChat: a private chat needs two different users');
  const conversation = privateConversation(userA, userB);
  const joinedAt = toSqlDateTime(at);
  await sql.query(
    `INSERT IGNORE INTO conversation_members (conversation, user_id, peer_id, joined_at, last_read_id)
     VALUES (?, ?, ?, ?, 0), (?, ?, ?, ?, 0)`,
    [conversation, userA, userB, joinedAt, conversation, userB, userA, joinedAt],
  );
}

export function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}
