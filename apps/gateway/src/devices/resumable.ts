import { privatePeer, type ParsedConversation } from '@im/protocol';
import type { UserLookup } from '../upgrade/user-directory.ts';
import type { RoomMemberships } from './room-memberships.ts';

export interface ResumableSources {
  memberships: Pick<RoomMemberships, 'roomsOf'>;
  users: UserLookup;
}

/**
 * Which of `conversations` the user may resume (the rule of `visibleConversations` in @im/db):
 * `group` always; a room while they are a member, read fresh; a private chat they are one of the
 * two of, when the other one exists. Answered from batched reads and the user directory, not a
 * statement per resume: a reconnect storm resumes thousands of sockets at once.
 */
export async function resumable(sources: ResumableSources, userId: string, conversations: readonly ParsedConversation[]): Promise<Set<string>> {
  const hasRoom = conversations.some((conversation) => conversation.kind === 'room');
  const peers = conversations.map((conversation) => privatePeer(conversation, userId));
  const [rooms, peerUsers] = await Promise.all([
    hasRoom ? sources.memberships.roomsOf(userId) : [],
    Promise.all(peers.map((peer) => (peer === undefined ? Promise.resolve(undefined) : sources.users.get(peer)))),
  ]);
  const memberOf = new Set(rooms);
  const visible = new Set<string>();
  conversations.forEach((conversation, i) => {
    if (conversation.kind === 'group' || (conversation.kind === 'room' && memberOf.has(conversation.id)) || peerUsers[i] !== undefined) {
      visible.add(conversation.id);
    }
  });
  return visible;
}
