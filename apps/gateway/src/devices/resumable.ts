import { visibleConversationsFrom, type VisibilitySources } from '@im/db';
import type { ParsedConversation } from '@im/protocol';
import type { UserLookup } from '../upgrade/user-directory.ts';
import type { RoomMemberships } from './room-memberships.ts';

export interface ResumableSources {
  memberships: Pick<RoomMemberships, 'roomsOf'>;
  users: UserLookup;
}

/**
 * Which of `conversations` the user may resume: the rule of `visibleConversations` (@im/db), with
 * rooms from the batched membership reads (fresh each time) and peers from the user directory
 * instead of a statement of each kind per resume: a reconnect storm resumes thousands at once.
 */
export function resumable(sources: ResumableSources, userId: string, conversations: readonly ParsedConversation[]): Promise<Set<string>> {
  return visibleConversationsFrom(batchedVisibility(sources), userId, conversations);
}

function batchedVisibility({ memberships, users }: ResumableSources): VisibilitySources {
  return {
    async memberRooms(userId, rooms) {
      const mine = new Set(await memberships.roomsOf(userId));
      return rooms.filter((room) => mine.has(room));
    },
    async existingUsers(userIds) {
      const found = await Promise.all(userIds.map((userId) => users.get(userId)));
      return found.flatMap((user) => (user ? [user.userId] : []));
    },
  };
}
