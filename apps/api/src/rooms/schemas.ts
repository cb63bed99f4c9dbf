import { z } from 'zod';
import { ASSIGNABLE_ROOM_ROLES, ROOM_ID_PATTERN, USER_ID_PATTERN } from '@im/protocol';

const MAX_NAME_CHARS = 64;

/** 1–64 characters after trimming, no control characters (emoji and every script are fine). */
const roomName = z
  .string('name 必须是字符串')
  .trim()
  .min(1, '房间名不能为空')
  .refine((name) => [...name].length <= MAX_NAME_CHARS, `房间名最多 ${MAX_NAME_CHARS} 个字符`)
  .refine((name) => !/[\p{Cc}\u2028\u2029]/u.test(name), '房间名不能包含控制字符');

const userId = z
  .string('user_id 必须是字符串')
  .trim()
  .toLowerCase()
  .regex(USER_ID_PATTERN, 'user_id 是 10 位十六进制');

/** A list of user ids, at most `max` of them; repeats count once. */
function userIdList(max: number) {
  return z
    .array(userId, 'user_ids 必须是数组')
    .max(max, `一次最多 ${max} 个用户`)
    .transform((ids) => [...new Set(ids)]);
}

export function createRoomInput(maxPerCall: number) {
  return z.object({ name: roomName, member_ids: userIdList(maxPerCall).default([]) });
}

export function addMembersInput(maxPerCall: number) {
  return z.object({ user_ids: userIdList(maxPerCall).refine((ids) => ids.length > 0, 'user_ids 不能为空') });
}

export const renameRoomInput = z.object({ name: roomName });

export const changeRoleInput = z.object({ role: z.enum(ASSIGNABLE_ROOM_ROLES, 'role 只能是 admin 或 member') });

/** A room id in a path: anything else names no room, so it is a 404 rather than a 400. */
export function isRoomId(value: string | undefined): value is string {
  return value !== undefined && ROOM_ID_PATTERN.test(value);
}

export const memberPathUserId = userId;
