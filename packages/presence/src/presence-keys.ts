/**
 * Redis keys of the presence data. `{...}` is the hash tag: keys sharing it live in one cluster
 * slot, which is what lets one Lua script update them together.
 *
 * A "session" is one registration of a gateway, `<gatewayId>#<random>`: a gateway that lost its
 * lease re-registers under a new session, so a reaper still cleaning the old one can never
 * touch the new entries.
 *
 * Gateway slot (`{gateways}`):
 * - `leases`         sorted set, session → lease expiry (ms, Redis server clock)
 * - `reaping`        sorted set, session being reaped → claim expiry (a reaper that dies
 *                    mid-way lets another finish)
 * - `rooms:<session>` set of rooms the session has (or had) connections in
 *
 * Room slot (`{<room>}`):
 * - `users`          hash, userId → connections in the room, cluster-wide
 * - `gw:<session>`   hash, userId → connections in the room on that session
 * - `reaped:<session>` tombstone with a TTL: the session was reaped in this room, so a late
 *                    write from a paused gateway must not recreate its entries
 */
export interface PresenceKeys {
  leases: string;
  reaping: string;
  roomsOf(session: string): string;
  users(room: string): string;
  gateway(room: string, session: string): string;
  tombstone(room: string, session: string): string;
}

export function presenceKeys(prefix: string): PresenceKeys {
  return {
    leases: `${prefix}{gateways}:leases`,
    reaping: `${prefix}{gateways}:reaping`,
    roomsOf: (session) => `${prefix}{gateways}:rooms:${session}`,
    users: (room) => `${prefix}{${room}}:users`,
    gateway: (room, session) => `${prefix}{${room}}:gw:${session}`,
    tombstone: (room, session) => `${prefix}{${room}}:reaped:${session}`,
  };
}

/**
 * User-level presence ("has any Part 2 socket anywhere") is kept as connections in a few reserved
 * rooms, one per bucket of users, so the lease, reaping, repair and re-assert machinery that keeps
 * room presence crash-safe keeps it crash-safe too. Buckets rather than one room so no single
 * hash holds every online user (on Redis Cluster it would be one hot slot) and no bulk rewrite
 * walks all of them at once. `~` never starts a conversation id, so these never meet a real room.
 * Changing the bucket count moves every user: all gateways of a cluster must agree on it.
 */
export const USER_PRESENCE_BUCKETS = 16;
const USER_ROOM_PREFIX = '~users:';

/** The reserved room that holds `userId`'s user-level connections. */
export function userPresenceRoom(userId: string): string {
  // FNV-1a: stable across processes and versions, unlike anything seeded.
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${USER_ROOM_PREFIX}${hash % USER_PRESENCE_BUCKETS}`;
}

export function isUserPresenceRoom(room: string): boolean {
  return room.startsWith(USER_ROOM_PREFIX);
}
