import type { Cluster, Redis } from 'ioredis';
import { createRedisOnlineUsers, createRedisRoomUsers } from '@im/presence';
import { GROUP_CONVERSATION, isPrivateConversation } from '@im/protocol';

/** Which of a message's recipients hold a connection on some gateway. */
export interface WhoIsOnline {
  online(conversation: string, userIds: readonly string[]): Promise<Set<string>>;
}

/**
 * Online means a connection anywhere that would show the message: a Part 2 socket (user-level
 * presence), a Part 1 socket on the global room, or a Part 1 socket on this very private chat.
 * A Part 1 socket on another private chat does not count: it would not show this message.
 */
export function createWhoIsOnline(redis: Redis | Cluster, prefix: string): WhoIsOnline {
  const users = createRedisOnlineUsers({ redis, prefix });
  const rooms = createRedisRoomUsers({ redis, prefix });
  return {
    async online(conversation, userIds) {
      if (userIds.length === 0) return new Set();
      const found = await Promise.all([
        users.onlineUsers(userIds),
        rooms.onlineInRoom(GROUP_CONVERSATION, userIds),
        isPrivateConversation(conversation) ? rooms.onlineInRoom(conversation, userIds) : Promise.resolve(new Set<string>()),
      ]);
      return new Set(found.flatMap((set) => [...set]));
    },
  };
}
