export type { Presence, PresenceChange, PresenceResync, OnlineUsers, UserPresenceChange } from './presence.ts';
export { createRedisPresence, type RedisPresenceOptions } from './presence-redis.ts';
export { createRedisOnlineUsers, type RedisOnlineUsersOptions } from './online-users-redis.ts';
export {
  createMemoryPresence,
  createMemoryPresenceHub,
  type MemoryPresenceHub,
  type MemoryPresenceOptions,
} from './presence-memory.ts';
export { createRedisRoomUsers, type RedisRoomUsersOptions } from './room-users-redis.ts';
export type { OfflineGrace } from './offline-grace.ts';
export { createRedisOfflineGrace, type RedisOfflineGraceOptions } from './offline-grace-redis.ts';
export { createMemoryOfflineGrace, type MemoryOfflineGraceOptions } from './offline-grace-memory.ts';
