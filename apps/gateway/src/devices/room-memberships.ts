import DataLoader from 'dataloader';
import { roomConversationsOf, type Queryable } from '@im/db';

/** Most users one statement asks about. */
const BATCH = 200;

/**
 * Every room of a user, for an `/api/chat` socket opening (what it subscribes to) and resuming
 * (which rooms it may catch up). Read fresh each time, never remembered: a removed member must
 * not resume a room. A reconnect storm asks for thousands of users at once; those asked for in
 * the same turn of the event loop share one statement instead of queueing one each on the
 * membership pool (and failing there at its deadline).
 */
export class RoomMemberships {
  private readonly loader: DataLoader<string, string[]>;

  constructor(sql: Queryable) {
    this.loader = new DataLoader(
      async (userIds) => {
        const byUser = await roomConversationsOf(sql, userIds);
        return userIds.map((userId) => byUser.get(userId) ?? []);
      },
      { cache: false, maxBatchSize: BATCH },
    );
  }

  roomsOf(userId: string): Promise<string[]> {
    return this.loader.load(userId);
  }
}
