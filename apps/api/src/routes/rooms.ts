import Router from '@koa/router';
import { findRoom, roomMembers, roomRole, roomsOfUser } from '@im/db';
import { ok, roomConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { parseInput } from '../validation.ts';
import { addMembersInput, changeRoleInput, createRoomInput, isRoomId, memberPathUserId, renameRoomInput } from '../rooms/schemas.ts';
import { createRoom } from '../rooms/create-room.ts';
import { addMembers } from '../rooms/add-members.ts';
import { removeMember } from '../rooms/remove-member.ts';
import { changeRole } from '../rooms/change-role.ts';
import { renameRoom } from '../rooms/rename-room.ts';
import { memberNotFound, roomNotFound } from '../rooms/room-errors.ts';
import { toMemberView, toRoomView } from '../rooms/room-view.ts';

/** Rooms with members (CONTRACT.md Part 2, Rooms; decisions in docs/protocol-part2.md). */
export function roomsRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/rooms' });
  const requireAuth = authenticate(ctx.tokens);
  const createInput = createRoomInput(ctx.config.rooms.max_members_per_call);
  const addInput = addMembersInput(ctx.config.rooms.max_members_per_call);

  /** The room id of the path, or 404: a malformed id names no room. */
  const roomIdOf = (params: Record<string, string | undefined>): string => {
    if (!isRoomId(params.room_id)) throw roomNotFound();
    return params.room_id;
  };
  /** The member id of the path: malformed is a 404 too, there is no such member. */
  const memberIdOf = (params: Record<string, string | undefined>): string => {
    const parsed = memberPathUserId.safeParse(params.user_id);
    if (!parsed.success) throw memberNotFound();
    return parsed.data;
  };

  router.post('/', requireAuth, async (http) => {
    const input = parseInput(createInput, http.request.body);
    const room = await createRoom(ctx, http.state.auth.userId, input);
    ctx.logger.info({ user_id: http.state.auth.userId, room_id: room.room_id, member_count: room.member_count }, 'room created');
    http.body = ok(room, '房间已创建');
  });

  router.get('/', requireAuth, async (http) => {
    const rooms = await roomsOfUser(ctx.sql, http.state.auth.userId);
    http.body = ok({ count: rooms.length, list: rooms.map((room) => toRoomView(room, room.role)) });
  });

  router.get('/:room_id', requireAuth, async (http) => {
    const roomId = roomIdOf(http.params);
    const userId = http.state.auth.userId;
    const [room, role] = await Promise.all([findRoom(ctx.sql, roomId), roomRole(ctx.sql, roomConversation(roomId), userId)]);
    if (!room || !role) throw roomNotFound();
    const members = await roomMembers(ctx.sql, room.conversation);
    http.body = ok({ ...toRoomView(room, role), members: members.map(toMemberView) });
  });

  router.patch('/:room_id', requireAuth, async (http) => {
    const roomId = roomIdOf(http.params);
    const { name } = parseInput(renameRoomInput, http.request.body);
    http.body = ok(await renameRoom(ctx, http.state.auth.userId, roomId, name), '房间名已修改');
  });

  router.post('/:room_id/members', requireAuth, async (http) => {
    const roomId = roomIdOf(http.params);
    const { user_ids: userIds } = parseInput(addInput, http.request.body);
    const result = await addMembers(ctx, http.state.auth.userId, roomId, userIds);
    ctx.logger.info({ user_id: http.state.auth.userId, room_id: roomId, added: result.added.length }, 'room members added');
    http.body = ok(result, '成员已添加');
  });

  router.delete('/:room_id/members/:user_id', requireAuth, async (http) => {
    const roomId = roomIdOf(http.params);
    const target = memberIdOf(http.params);
    const actor = http.state.auth.userId;
    const room = await removeMember(ctx, actor, roomId, target);
    ctx.logger.info({ user_id: actor, room_id: roomId, removed: target }, actor === target ? 'room left' : 'room member removed');
    http.body = ok(room, actor === target ? '已退出房间' : '成员已移除');
  });

  router.patch('/:room_id/members/:user_id', requireAuth, async (http) => {
    const roomId = roomIdOf(http.params);
    const target = memberIdOf(http.params);
    const { role } = parseInput(changeRoleInput, http.request.body);
    http.body = ok(await changeRole(ctx, http.state.auth.userId, roomId, target, role), '角色已修改');
  });

  return router;
}
