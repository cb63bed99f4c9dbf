import { userChannel } from '@im/bus';
import { privateChatsOf, type Queryable } from '@im/db';
import type { Logger } from '@im/logger';
import { MsgType, type UserSummary } from '@im/protocol';
import type { Publisher } from '../fanout/publisher.ts';
import type { UserLookup } from '../upgrade/user-directory.ts';

/** Private-chat peers told when a user comes online or goes offline: their most recent chats. */
export const PRESENCE_PEERS = 200;

export interface PeerPresenceOptions {
  sql: Queryable;
  publisher: Pick<Publisher, 'transient'>;
  users: UserLookup;
  logger: Logger;
}

/**
 * msg_type 2/3 on `/api/chat`: a user's first `/api/chat` socket anywhere (or their last one
 * closing, or their gateway dying) is announced to the peers of their 200 most recent private
 * chats, on each peer's channel: one publish per peer and transition, nothing per message.
 * `online_count` is how many of the two are online, as in Part 1's private frames.
 */
export class PeerPresence {
  constructor(private readonly options: PeerPresenceOptions) {}

  async changed(user: UserSummary, online: boolean): Promise<void> {
    const { sql, publisher, logger } = this.options;
    try {
      const chats = await privateChatsOf(sql, user.userId, PRESENCE_PEERS);
      const date = new Date().toISOString();
      await Promise.all(
        chats.map(({ conversation, peerId }) => {
          const frame = {
            conversation,
            user_id: user.userId,
            username: user.username,
            avatar: user.avatar,
            msg_type: online ? MsgType.InRoom : MsgType.OutRoom,
            content: online ? `${user.username} 上线了` : `${user.username} 下线了`,
            date,
            online_count: online ? 2 : 1,
          };
          return publisher.transient(conversation, JSON.stringify(frame), [userChannel(peerId)]);
        }),
      );
    } catch (err) {
      logger.warn({ err: { message: (err as Error)?.message }, user_id: user.userId }, 'peer presence not announced');
    }
  }

  /** For a user known here only by id (reaped with a dead gateway). */
  async changedById(userId: string, online: boolean): Promise<void> {
    const user = await this.options.users.get(userId).catch(() => undefined);
    await this.changed(user ?? { userId, username: userId, avatar: '' }, online);
  }
}
