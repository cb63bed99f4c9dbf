import { randomBytes } from 'node:crypto';
import { roomConversation, type RoomRole } from '@im/protocol';
import { placeholders, type Queryable } from './memberships.ts';
import { fromSqlDateTime, toSqlDateTime } from './sql-time.ts';

// Rooms and their members. Every change to a room's membership, name or owner runs in a
// transaction that first locks the room's row (`lockRoom`), so changes to one room happen one at
// a time and member_count, roles and owner_id always agree. Rules (who may do what, limits) are
// the caller's; these are the statements.

export interface RoomRow {
  roomId: string;
  conversation: string;
  name: string;
  ownerId: string;
  memberCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface RoomMemberRow {
  userId: string;
  username: string;
  avatar: string;
  role: RoomRole;
  joinedAt: Date;
}

interface RawRoom {
  room_id: string;
  name: string;
  owner_id: string;
  member_count: number | bigint;
  created_at: string | Date;
  updated_at: string | Date;
}

const ROOM_COLUMNS = 'r.room_id, r.name, r.owner_id, r.member_count, r.created_at, r.updated_at';

function toRoom(row: RawRoom): RoomRow {
  return {
    roomId: row.room_id,
    conversation: roomConversation(row.room_id),
    name: row.name,
    ownerId: row.owner_id,
    memberCount: Number(row.member_count),
    createdAt: fromSqlDateTime(row.created_at),
    updatedAt: fromSqlDateTime(row.updated_at),
  };
}

/** A new random room id: 12 lowercase hex characters (48 bits). */
export function newRoomId(): string {
  return randomBytes(6).toString('hex');
}

/** How many members a room has (0 when it does not exist): the stored count, one primary-key read. */
export async function roomMemberCount(sql: Queryable, roomId: string): Promise<number> {
  const [row] = await sql.query<Array<{ member_count: number }>>('SELECT member_count FROM rooms WHERE room_id = ?', [roomId]);
  return Number(row?.member_count ?? 0);
}

export async function findRoom(sql: Queryable, roomId: string): Promise<RoomRow | undefined> {
  const rows = await sql.query<RawRoom[]>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.room_id = ?`, [roomId]);
  return rows[0] && toRoom(rows[0]);
}

/** The room's row, locked until the transaction ends: the first statement of every room change. */
export async function lockRoom(tx: Queryable, roomId: string): Promise<RoomRow | undefined> {
  const rows = await tx.query<RawRoom[]>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.room_id = ? FOR UPDATE`, [roomId]);
  return rows[0] && toRoom(rows[0]);
}

/** The rooms `userId` belongs to with their role in each, by name (then id). */
export async function roomsOfUser(sql: Queryable, userId: string): Promise<Array<RoomRow & { role: RoomRole }>> {
  const rows = await sql.query<Array<RawRoom & { role: RoomRole }>>(
    `SELECT ${ROOM_COLUMNS}, m.role
     FROM conversation_members m JOIN rooms r ON r.room_id = SUBSTRING(m.conversation, 3)
     WHERE m.user_id = ? AND m.conversation LIKE 'r:%'
     ORDER BY r.name, r.room_id`,
    [userId],
  );
  return rows.map((row) => ({ ...toRoom(row), role: row.role }));
}

/** Every member with who they are: the owner, then admins, then members, each by joining time. */
export async function roomMembers(sql: Queryable, conversation: string): Promise<RoomMemberRow[]> {
  const rows = await sql.query<Array<{ user_id: string; username: string; avatar: string; role: RoomRole; joined_at: string | Date }>>(
    `SELECT m.user_id, u.username, u.avatar, m.role, m.joined_at
     FROM conversation_members m JOIN users u ON u.user_id = m.user_id
     WHERE m.conversation = ?
     ORDER BY m.role, m.joined_at, m.user_id`,
    [conversation],
  );
  return rows.map((row) => ({
    userId: row.user_id,
    username: row.username,
    avatar: row.avatar,
    role: row.role,
    joinedAt: fromSqlDateTime(row.joined_at),
  }));
}

/** One member of a room, or undefined. */
export async function roomMember(sql: Queryable, conversation: string, userId: string): Promise<RoomMemberRow | undefined> {
  const rows = await sql.query<Array<{ user_id: string; username: string; avatar: string; role: RoomRole; joined_at: string | Date }>>(
    `SELECT m.user_id, u.username, u.avatar, m.role, m.joined_at
     FROM conversation_members m JOIN users u ON u.user_id = m.user_id
     WHERE m.conversation = ? AND m.user_id = ?`,
    [conversation, userId],
  );
  const row = rows[0];
  return row && { userId: row.user_id, username: row.username, avatar: row.avatar, role: row.role, joinedAt: fromSqlDateTime(row.joined_at) };
}

/**
 * Locks the users' rows (in id order, so two calls cannot deadlock on them) and returns the ids
 * that exist. Holding these locks while counting their rooms is what keeps the per-user room
 * limit exact when several rooms add the same user at once, on any API replica.
 */
export async function lockUsers(tx: Queryable, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const sorted = [...new Set(userIds)].sort();
  const rows = await tx.query<Array<{ user_id: string }>>(
    `SELECT user_id FROM users WHERE user_id IN (${placeholders(sorted)}) ORDER BY user_id FOR UPDATE`,
    sorted,
  );
  return new Set(rows.map((row) => row.user_id));
}

/** How many rooms each of `userIds` belongs to (users in none are absent). */
export async function roomCounts(sql: Queryable, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await sql.query<Array<{ user_id: string; n: bigint | number }>>(
    `SELECT user_id, COUNT(*) AS n FROM conversation_members
     WHERE user_id IN (${placeholders(userIds)}) AND conversation LIKE 'r:%'
     GROUP BY user_id`,
    [...userIds],
  );
  return new Map(rows.map((row) => [row.user_id, Number(row.n)]));
}

/** Which of `userIds` are members of the room already. */
export async function existingMembers(sql: Queryable, conversation: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await sql.query<Array<{ user_id: string }>>(
    `SELECT user_id FROM conversation_members WHERE conversation = ? AND user_id IN (${placeholders(userIds)})`,
    [conversation, ...userIds],
  );
  return new Set(rows.map((row) => row.user_id));
}

/** The newest message id of a conversation (0 when it has none): where a new member starts reading. */
export async function latestMessageId(sql: Queryable, conversation: string): Promise<bigint> {
  const rows = await sql.query<Array<{ id: bigint }>>(
    `SELECT m.id FROM conversations c JOIN chat_messages m ON m.conversation = c.conversation AND m.seq = c.last_seq
     WHERE c.conversation = ?`,
    [conversation],
  );
  return rows[0] ? BigInt(rows[0].id) : 0n;
}

/**
 * Stores a new room with its members (the owner among them) and its conversation row, dated
 * `at`: the room's activity is its creation until its first message. Throws the driver's
 * duplicate-key error (errno 1062) in the 1-in-2^48 case that the id is taken.
 */
export async function insertRoom(
  tx: Queryable,
  room: { roomId: string; name: string; ownerId: string; memberIds: readonly string[]; at: Date },
): Promise<void> {
  const conversation = roomConversation(room.roomId);
  const at = toSqlDateTime(room.at);
  const members = [room.ownerId, ...room.memberIds.filter((id) => id !== room.ownerId)];
  await tx.query(
    'INSERT INTO rooms (room_id, name, owner_id, member_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    [room.roomId, room.name, room.ownerId, members.length, at, at],
  );
  await insertMembers(tx, conversation, members.map((userId) => ({ userId, role: userId === room.ownerId ? 'owner' : 'member' })), room.at, 0n);
  await tx.query(
    `INSERT INTO conversations (conversation, last_seq, last_activity_at) VALUES (?, 0, ?)
     ON DUPLICATE KEY UPDATE last_activity_at = VALUES(last_activity_at)`,
    [conversation, at],
  );
}

/** Adds member rows, all starting to read after `lastReadId`. */
export async function insertMembers(
  tx: Queryable,
  conversation: string,
  members: ReadonlyArray<{ userId: string; role: RoomRole }>,
  at: Date,
  lastReadId: bigint,
): Promise<void> {
  if (members.length === 0) return;
  const joinedAt = toSqlDateTime(at);
  await tx.query(
    `INSERT INTO conversation_members (conversation, user_id, role, joined_at, last_read_id) VALUES ${members.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    members.flatMap((member) => [conversation, member.userId, member.role, joinedAt, lastReadId]),
  );
}

export async function deleteMember(tx: Queryable, conversation: string, userId: string): Promise<void> {
  await tx.query('DELETE FROM conversation_members WHERE conversation = ? AND user_id = ?', [conversation, userId]);
}

export async function setMemberRole(tx: Queryable, conversation: string, userId: string, role: RoomRole): Promise<void> {
  await tx.query('UPDATE conversation_members SET role = ? WHERE conversation = ? AND user_id = ?', [role, conversation, userId]);
}

/**
 * Who takes over when the owner leaves: the longest-standing admin, else the longest-standing
 * member (ties by user id), or undefined when nobody is left. Call after removing the owner.
 */
export async function nextOwner(tx: Queryable, conversation: string): Promise<string | undefined> {
  // ENUM columns sort by position: owner, admin, member.
  const rows = await tx.query<Array<{ user_id: string }>>(
    'SELECT user_id FROM conversation_members WHERE conversation = ? ORDER BY role, joined_at, user_id LIMIT 1',
    [conversation],
  );
  return rows[0]?.user_id;
}

/** Writes the room row's changing fields and returns the room as stored. */
export async function updateRoom(
  tx: Queryable,
  roomId: string,
  changes: { name?: string; ownerId?: string; memberCountDelta?: number },
  at: Date,
): Promise<RoomRow> {
  await tx.query(
    `UPDATE rooms SET name = COALESCE(?, name), owner_id = COALESCE(?, owner_id), member_count = member_count + ?, updated_at = ?
     WHERE room_id = ?`,
    [changes.name ?? null, changes.ownerId ?? null, changes.memberCountDelta ?? 0, toSqlDateTime(at), roomId],
  );
  const room = await findRoom(tx, roomId);
  if (!room) throw new Error(`room ${roomId} vanished inside its own transaction`);
  return room;
}

/** Deletes a room nobody belongs to any more; its messages and files stay stored, reachable by nobody. */
export async function deleteRoom(tx: Queryable, roomId: string): Promise<void> {
  await tx.query('DELETE FROM rooms WHERE room_id = ?', [roomId]);
}
