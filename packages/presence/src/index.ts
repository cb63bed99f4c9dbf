export type { Presence, PresenceChange, PresenceResync } from './presence.ts';
export { createRedisPresence, type RedisPresenceOptions } from './presence-redis.ts';
export {
  createMemoryPresence,
  createMemoryPresenceHub,
  type MemoryPresenceHub,
  type MemoryPresenceOptions,
} from './presence-memory.ts';
