import { existingMembers, insertMembers, latestMessageId, lockRoom, lockUsers, roomCounts, roomRole, updateRoom } from '@im/db';
import { roomEventFrame } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { notAllowed, roomFull, roomNotFound, tooManyRooms, unknownUsers } from './room-errors.ts';
import { mayAddMembers } from './room-rights.ts';
import { toRoomSummary, toRoomView, type RoomView } from './room-view.ts';

export interface AddMembersResult {
  room: RoomView;
  /** Who became a member, in the order given. */
  added: string[];
  /** Who already was one (nothing changed for them). */
  already_members: string[];
}

/**
 * `POST /api/rooms/<room_id>/members`: owner or admin. Users already in the room are reported,
 * not refused; the rest must exist, fit under their room limit and, all together, under the
 * room's. New members start reading after the room's latest message, so joining does not make
 * the whole history unread. Each one gets `member_added`.
 */
export async function addMembers(ctx: ApiContext, actorId: string, roomId: string, userIds: string[]): Promise<AddMembersResult> {
  const { max_members: maxMembers, max_rooms_per_user: maxRooms } = ctx.config.rooms;
  const at = new Date();
  const { room, role, added, already } = await ctx.sql.transaction(async (tx) => {
    const locked = await lockRoom(tx, roomId);
    const actorRole = locked && (await roomRole(tx, locked.conversation, actorId));
    if (!locked || !actorRole) throw roomNotFound();
    if (!mayAddMembers(actorRole)) throw notAllowed('添加成员');
    const members = await existingMembers(tx, locked.conversation, userIds);
    const fresh = userIds.filter((id) => !members.has(id));
    if (fresh.length === 0) return { room: locked, role: actorRole, added: fresh, already: userIds };
    const existing = await lockUsers(tx, fresh);
    const unknown = fresh.filter((id) => !existing.has(id));
    if (unknown.length > 0) throw unknownUsers('user_ids', unknown);
    if (locked.memberCount + fresh.length > maxMembers) throw roomFull('user_ids', maxMembers);
    const counts = await roomCounts(tx, fresh);
    const full = fresh.filter((id) => (counts.get(id) ?? 0) >= maxRooms);
    if (full.length > 0) throw tooManyRooms('user_ids', full, maxRooms);
    const startAfter = await latestMessageId(tx, locked.conversation);
    await insertMembers(tx, locked.conversation, fresh.map((userId) => ({ userId, role: 'member' as const })), at, startAfter);
    const room = await updateRoom(tx, roomId, { memberCountDelta: fresh.length }, at);
    return { room, role: actorRole, added: fresh, already: userIds.filter((id) => members.has(id)) };
  });
  const summary = toRoomSummary(room);
  await ctx.roomEvents.changed(
    added.map((userId) =>
      roomEventFrame({ conversation: room.conversation, event: 'member_added', room: summary, userId, role: 'member', by: actorId, date: at }),
    ),
  );
  return { room: toRoomView(room, role), added, already_members: already };
}
