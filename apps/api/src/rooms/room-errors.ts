import { errors } from '@im/protocol';

// The rooms' failures, worded once. A room the caller is not in is "not found", whatever the
// reason, so room ids cannot be probed.

export const roomNotFound = () => errors.notFound('房间不存在');

export const memberNotFound = () => errors.notFound('该用户不是房间成员');

export const notAllowed = (what: string) => errors.forbidden(`没有权限${what}`);

/** 1002 naming every unknown id, under the field that held them. */
export function unknownUsers(field: string, userIds: readonly string[]) {
  const message = `用户不存在: ${userIds.join(', ')}`;
  return errors.invalidParameter(message, { errors: [{ field, message }], unknown_user_ids: userIds });
}

/** 1002 naming every user who is in as many rooms as they may be. */
export function tooManyRooms(field: string, userIds: readonly string[], max: number) {
  const message = `这些用户加入的房间已达上限 ${max}: ${userIds.join(', ')}`;
  return errors.invalidParameter(message, { errors: [{ field, message }], user_ids: userIds, max_rooms_per_user: max });
}

export function roomFull(field: string, max: number) {
  const message = `房间成员最多 ${max} 人`;
  return errors.invalidParameter(message, { errors: [{ field, message }], max_members: max });
}
