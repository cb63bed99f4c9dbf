import { lockRoom, roomMember, roomRole, setMemberRole, updateRoom } from '@im/db';
import { errors, roomEventFrame, type AssignableRoomRole } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { memberNotFound, notAllowed, roomNotFound } from './room-errors.ts';
import { mayChangeRoles } from './room-rights.ts';
import { toMemberView, toRoomSummary, type MemberView } from './room-view.ts';

/**
 * `PATCH /api/rooms/<room_id>/members/<user_id> {role}`: the owner makes a member an admin or an
 * admin a member. The owner's own role does not change here (ownership passes on when the owner
 * leaves). Setting the role someone already has changes nothing and sends no event.
 */
export async function changeRole(ctx: ApiContext, actorId: string, roomId: string, userId: string, role: AssignableRoomRole): Promise<MemberView> {
  const at = new Date();
  const outcome = await ctx.sql.transaction(async (tx) => {
    const locked = await lockRoom(tx, roomId);
    const actorRole = locked && (await roomRole(tx, locked.conversation, actorId));
    if (!locked || !actorRole) throw roomNotFound();
    if (!mayChangeRoles(actorRole)) throw notAllowed('修改成员角色');
    const member = await roomMember(tx, locked.conversation, userId);
    if (!member) throw memberNotFound();
    if (member.role === 'owner') {
      throw errors.invalidParameter('群主的角色不能修改；群主退出时由管理员或最早加入的成员接任', {
        errors: [{ field: 'role', message: '不能修改群主的角色' }],
      });
    }
    if (member.role === role) return { member, room: undefined };
    await setMemberRole(tx, locked.conversation, userId, role);
    const room = await updateRoom(tx, roomId, {}, at);
    return { member: { ...member, role }, room };
  });
  if (outcome.room) {
    await ctx.roomEvents.changed([
      roomEventFrame({ conversation: outcome.room.conversation, event: 'role_changed', room: toRoomSummary(outcome.room), userId, role, by: actorId, date: at }),
    ]);
  }
  return toMemberView(outcome.member);
}
