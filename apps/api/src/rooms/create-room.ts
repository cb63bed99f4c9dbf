import { findRoom, insertRoom, lockUsers, newRoomId, roomCounts } from '@im/db';
import { errors, roomConversation, roomEventFrame } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { roomFull, tooManyRooms, unknownUsers } from './room-errors.ts';
import { toRoomSummary, toRoomView, type RoomView } from './room-view.ts';

const DUPLICATE_KEY = 1062;

/**
 * `POST /api/rooms`: the caller becomes the owner, `memberIds` members. Every named user must
 * exist and have room for one more room; the user rows are locked while that is checked, so the
 * per-user limit holds against parallel calls on any replica. Then `created` goes to everyone in it.
 */
export async function createRoom(ctx: ApiContext, ownerId: string, input: { name: string; member_ids: string[] }): Promise<RoomView> {
  const { max_members: maxMembers, max_rooms_per_user: maxRooms } = ctx.config.rooms;
  const memberIds = input.member_ids.filter((id) => id !== ownerId);
  if (memberIds.length + 1 > maxMembers) throw roomFull('member_ids', maxMembers);
  const everyone = [ownerId, ...memberIds];
  const at = new Date();

  for (let attempt = 1; ; attempt++) {
    const roomId = newRoomId();
    try {
      const room = await ctx.sql.transaction(async (tx) => {
        const existing = await lockUsers(tx, everyone);
        if (!existing.has(ownerId)) throw errors.notAuthenticated('用户不存在');
        const unknown = memberIds.filter((id) => !existing.has(id));
        if (unknown.length > 0) throw unknownUsers('member_ids', unknown);
        const counts = await roomCounts(tx, everyone);
        if ((counts.get(ownerId) ?? 0) >= maxRooms) throw tooManyRooms('(body)', [ownerId], maxRooms);
        const full = memberIds.filter((id) => (counts.get(id) ?? 0) >= maxRooms);
        if (full.length > 0) throw tooManyRooms('member_ids', full, maxRooms);
        await insertRoom(tx, { roomId, name: input.name, ownerId, memberIds, at });
        return (await findRoom(tx, roomId))!;
      });
      await ctx.roomEvents.created(
        roomEventFrame({ conversation: roomConversation(roomId), event: 'created', room: toRoomSummary(room), by: ownerId, date: at }),
        everyone,
      );
      return toRoomView(room, 'owner');
    } catch (err) {
      // A random id that is already taken (about one in 2^48): draw another.
      if ((err as { errno?: number }).errno !== DUPLICATE_KEY || attempt >= 3) throw err;
    }
  }
}
