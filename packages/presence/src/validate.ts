// Braces would change which part of a key Redis hashes (the hash tag), splitting a room's keys
// across cluster slots; the memory implementation refuses them too, so both behave alike. A
// leading `~` is reserved for user-level presence (presence-keys.ts).
export function assertRoom(room: unknown): asserts room is string {
  if (typeof room !== 'string' || room.length === 0 || /[{}]/.test(room)) {
    throw new TypeError(`presence: room must be a non-empty string without { or }, got ${JSON.stringify(room)}`);
  }
  if (room.startsWith('~')) throw new TypeError(`presence: rooms starting with ~ are reserved, got ${JSON.stringify(room)}`);
}

export function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new TypeError(`presence: userId must be a non-empty string, got ${JSON.stringify(userId)}`);
  }
}

export function assertUserIds(userIds: unknown): asserts userIds is readonly string[] {
  if (!Array.isArray(userIds)) throw new TypeError('presence: userIds must be an array of user ids');
  for (const userId of userIds) assertUserId(userId);
}

export function assertPositiveInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`presence: ${name} must be a positive integer, got ${String(value)}`);
  }
}
