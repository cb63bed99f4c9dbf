import { lockRoom, roomRole, updateRoom } from '@im/db';
import { roomEventFrame } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { notAllowed, roomNotFound } from './room-errors.ts';
import { mayRename } from './room-rights.ts';
import { toRoomSummary, toRoomView, type RoomView } from './room-view.ts';

/** `PATCH /api/rooms/<room_id> {name}`: owner or admin; `renamed` to the room (none when unchanged). */
export async function renameRoom(ctx: ApiContext, actorId: string, roomId: string, name: string): Promise<RoomView> {
  const at = new Date();
  const { room, role, changed } = await ctx.sql.transaction(async (tx) => {
    const locked = await lockRoom(tx, roomId);
    const role = locked && (await roomRole(tx, locked.conversation, actorId));
    if (!locked || !role) throw roomNotFound();
    if (!mayRename(role)) throw notAllowed('修改房间名');
    if (locked.name === name) return { room: locked, role, changed: false };
    return { room: await updateRoom(tx, roomId, { name }, at), role, changed: true };
  });
  if (changed) {
    await ctx.roomEvents.changed([roomEventFrame({ conversation: room.conversation, event: 'renamed', room: toRoomSummary(room), by: actorId, date: at })]);
  }
  return toRoomView(room, role);
}
