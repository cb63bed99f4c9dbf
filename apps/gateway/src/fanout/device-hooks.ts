import type { ConversationFeed } from './conversation-feed.ts';

/** What the `/api/chat` sockets of this gateway (see devices/) need to hear from the feeds. */
export interface DeviceHooks {
  /** Whether `userId` has an `/api/chat` socket here (a private message to them makes a feed). */
  follows(userId: string): boolean;
  /** A feed was just made, before any delivery: the participants' `/api/chat` sockets join it now. */
  feedCreated(conversation: string, feed: ConversationFeed): void;
  /** A transient frame on a user's channel (room event, typing, receipt): for that user's sockets. */
  userTransient(userId: string, conversation: string, frame: Buffer): void;
}
