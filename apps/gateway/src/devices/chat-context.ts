import type { Queryable } from '@im/db';
import type { Presence } from '@im/presence';
import type { FileUrlSigner } from '@im/protocol';
import type { MessageContext } from '../messages/handle-message.ts';
import type { CatchUp } from '../sessions/catch-up.ts';
import type { UserLookup } from '../upgrade/user-directory.ts';
import type { Devices } from './devices.ts';
import type { RoomMemberships } from './room-memberships.ts';
import type { RoomSizes } from './room-sizes.ts';
import type { TypingThrottle } from './typing-throttle.ts';

/** What an `/api/chat` client frame may use: Part 1's message handling plus the Part 2 parts. */
export interface ChatContext extends MessageContext {
  devices: Devices;
  sql: Queryable;
  memberships: Pick<RoomMemberships, 'roomsOf'>;
  users: UserLookup;
  sign: FileUrlSigner;
  catchUp: Pick<CatchUp, 'run'>;
  userPresence: Pick<Presence, 'onlineUsers'>;
  typing: TypingThrottle;
  roomSizes: RoomSizes;
  /** Typing and receipts go to a room's members only up to this many members (gateway.presence_notice_max_online). */
  noticeMaxMembers: number;
}
