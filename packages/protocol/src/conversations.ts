/**
 * Conversation ids: what messages are stored under, what gateways fan out on, and what Part 2
 * clients name in every frame and HTTP path. The same string for every participant:
 *
 * - `group`              the global room of Part 1 (every user may read and write it);
 * - `r:<room_id>`        a room with members, `room_id` 12 lowercase hex characters;
 * - `p:<user_id>:<user_id>` a private chat, the two 10-hex user ids sorted ascending as strings,
 *                        so A→B and B→A are one conversation.
 *
 * `parseConversation` is the one validator: everything that takes a conversation id from outside
 * (HTTP paths and queries, socket frames) goes through it, and only canonical ids pass (no upper
 * case, no unsorted or repeated pair), so one conversation never has two spellings.
 */
export const GROUP_CONVERSATION = 'group';

/** The longest id (`p:` + 10 + `:` + 10 = 23); the column is VARCHAR(32). */
export const MAX_CONVERSATION_LENGTH = 32;

/** A user's public id: 10 lowercase hex characters. */
export const USER_ID_PATTERN = /^[0-9a-f]{10}$/;
/** A room's public id: 12 lowercase hex characters. */
export const ROOM_ID_PATTERN = /^[0-9a-f]{12}$/;

export type ConversationKind = 'group' | 'room' | 'private';

export type ParsedConversation =
  | { kind: 'group'; id: typeof GROUP_CONVERSATION }
  | { kind: 'room'; id: string; roomId: string }
  /** `userIds` sorted ascending, as in the id. */
  | { kind: 'private'; id: string; userIds: readonly [string, string] };

/** `p:<smaller id>:<larger id>`, so A→B and B→A are one conversation. */
export function privateConversation(userA: string, userB: string): string {
  return userA < userB ? `p:${userA}:${userB}` : `p:${userB}:${userA}`;
}

/** `r:<room_id>`. */
export function roomConversation(roomId: string): string {
  return `r:${roomId}`;
}

export function isPrivateConversation(conversation: string): boolean {
  return conversation.startsWith('p:');
}

export function isRoomConversation(conversation: string): boolean {
  return conversation.startsWith('r:');
}

const ROOM = /^r:([0-9a-f]{12})$/;
const PRIVATE = /^p:([0-9a-f]{10}):([0-9a-f]{10})$/;

/** The conversation an id names, or undefined when it is not a canonical conversation id. */
export function parseConversation(id: unknown): ParsedConversation | undefined {
  if (typeof id !== 'string' || id.length > MAX_CONVERSATION_LENGTH) return undefined;
  if (id === GROUP_CONVERSATION) return { kind: 'group', id: GROUP_CONVERSATION };
  const room = ROOM.exec(id);
  if (room) return { kind: 'room', id, roomId: room[1]! };
  const pair = PRIVATE.exec(id);
  // Strictly ascending: an unsorted pair is another spelling, a repeated id is nobody's chat.
  if (pair && pair[1]! < pair[2]!) return { kind: 'private', id, userIds: [pair[1]!, pair[2]!] };
  return undefined;
}

/** In a private conversation, the participant who is not `userId`; undefined if `userId` is not one. */
export function privatePeer(conversation: ParsedConversation, userId: string): string | undefined {
  if (conversation.kind !== 'private') return undefined;
  const [a, b] = conversation.userIds;
  if (userId === a) return b;
  if (userId === b) return a;
  return undefined;
}
