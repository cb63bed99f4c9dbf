import { deleteMember, deleteRoom, lockRoom, nextOwner, roomRole, setMemberRole, updateRoom, type RoomRow } from '@im/db';
import { roomEventFrame, type RoomEventFrame } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { memberNotFound, notAllowed, roomNotFound } from './room-errors.ts';
import { mayRemove } from './room-rights.ts';
import { toRoomSummary, toRoomView, type RoomView } from './room-view.ts';

/**
 * `DELETE /api/rooms/<room_id>/members/<user_id>`: leaving (yourself) or removing someone
 * (owner: anyone; admin: members). The member gets `member_removed` (with `by` = themself when
 * they left) and their gateways stop sending them the room at once.
 *
 * The owner may leave: ownership passes to the longest-standing admin, or if there is none the
 * longest-standing member (`role_changed` to `owner`), as WhatsApp and Telegram groups do,
 * rather than refusing until they hand it over (the contract has no way to assign `owner`).
 * The last member leaving deletes the room; its messages stay stored and reachable by nobody.
 */
export async function removeMember(ctx: ApiContext, actorId: string, roomId: string, userId: string): Promise<RoomView> {
  const at = new Date();
  const leaving = actorId === userId;
  const { room, successor, actorRole } = await ctx.sql.transaction(async (tx) => {
    const locked = await lockRoom(tx, roomId);
    const actorRole = locked && (await roomRole(tx, locked.conversation, actorId));
    if (!locked || !actorRole) throw roomNotFound();
    const targetRole = leaving ? actorRole : await roomRole(tx, locked.conversation, userId);
    if (!targetRole) throw memberNotFound();
    if (!leaving && !mayRemove(actorRole, targetRole)) throw notAllowed('移除该成员');

    await deleteMember(tx, locked.conversation, userId);
    let successor: string | undefined;
    if (targetRole === 'owner') {
      successor = await nextOwner(tx, locked.conversation);
      if (!successor) {
        await deleteRoom(tx, roomId);
        const emptied: RoomRow = { ...locked, memberCount: 0, updatedAt: at };
        return { room: emptied, successor, actorRole: undefined };
      }
      await setMemberRole(tx, locked.conversation, successor, 'owner');
    }
    const room = await updateRoom(tx, roomId, { memberCountDelta: -1, ownerId: successor }, at);
    return { room, successor, actorRole: leaving ? undefined : actorRole };
  });

  const summary = toRoomSummary(room);
  const events: RoomEventFrame[] = [
    roomEventFrame({ conversation: room.conversation, event: 'member_removed', room: summary, userId, by: actorId, date: at }),
  ];
  if (successor) {
    events.push(roomEventFrame({ conversation: room.conversation, event: 'role_changed', room: summary, userId: successor, role: 'owner', by: actorId, date: at }));
  }
  await ctx.roomEvents.changed(events);
  return toRoomView(room, actorRole);
}
