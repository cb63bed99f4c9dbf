import { userChannel } from '@im/bus';
import { privateChatsOf, type Queryable } from '@im/db';
import type { Logger } from '@im/logger';
import type { OfflineGrace, OnlineUsers } from '@im/presence';
import { MsgType, type UserSummary } from '@im/protocol';
import type { Publisher } from '../fanout/publisher.ts';
import type { UserLookup } from '../upgrade/user-directory.ts';

/** Private-chat peers told when a user comes online or goes offline: their most recent chats. */
export const PRESENCE_PEERS = 200;
/** Offline notices that fell due, taken (and told) at a time. */
const DUE_BATCH = 100;

export interface PeerPresenceOptions {
  sql: Queryable;
  publisher: Pick<Publisher, 'transient'>;
  users: UserLookup;
  logger: Logger;
  /** Where offline notices wait out their grace; absent (grace 0): every change is told at once. */
  grace?: OfflineGrace;
  /** Whether users whose grace ran out are back after all. */
  online: OnlineUsers;
}

/**
 * msg_type 2/3 on `/api/chat`: a user's first `/api/chat` socket anywhere is announced to the
 * peers of their 200 most recent private chats, on each peer's channel: one publish per peer and
 * transition, nothing per message. Their last socket closing (or their gateway dying) is announced
 * once they stayed away the grace (gateway.peer_offline_grace_ms); back within it, nothing is
 * announced either way (see OfflineGrace). `online_count` is how many of the two are online, as
 * in Part 1's private frames.
 *
 * When Redis cannot keep or cancel a pending notice, the change is told at once: a repeated
 * notice is harmless to a client (presence frames are set operations), a missing one is not.
 */
export class PeerPresence {
  private telling = false;

  constructor(private readonly options: PeerPresenceOptions) {}

  /** The user's first `/api/chat` socket anywhere opened (`user` when the caller knows who they are). */
  async cameOnline(userId: string, user?: UserSummary): Promise<void> {
    const { grace, logger } = this.options;
    if (grace) {
      const { tellPeers } = await grace.cameOnline(userId).catch((err: unknown) => {
        logger.warn({ err: { message: (err as Error)?.message }, user_id: userId }, 'pending offline notice not checked; telling online');
        return { tellPeers: true };
      });
      if (!tellPeers) return;
    }
    await this.tell(user ?? (await this.lookUp(userId)), true);
  }

  /** The user's last `/api/chat` socket anywhere is gone: told after the grace, unless they are back by then. */
  async wentOffline(userId: string): Promise<void> {
    const { grace, logger } = this.options;
    if (grace) {
      try {
        await grace.wentOffline(userId);
        return;
      } catch (err) {
        logger.warn({ err: { message: (err as Error)?.message }, user_id: userId }, 'offline notice could not wait out its grace; telling it now');
      }
    }
    await this.tell(await this.lookUp(userId), false);
  }

  /**
   * Tells the peers of every user whose grace ran out and who is still away (a gateway timer calls
   * this; each notice is handed to one gateway). A run still going makes the next call a no-op.
   */
  async tellDue(): Promise<void> {
    const { grace, online, logger } = this.options;
    if (!grace || this.telling) return;
    this.telling = true;
    try {
      for (;;) {
        const due = await grace.takeDue(DUE_BATCH);
        if (due.length === 0) return;
        const back = await online.onlineUsers(due).catch(async (err: unknown) => {
          // Nobody can say who is back: the notices wait for the next round rather than go out wrong.
          await Promise.allSettled(due.map((userId) => grace.wentOffline(userId)));
          throw err;
        });
        await Promise.all(due.filter((userId) => !back.has(userId)).map(async (userId) => this.tell(await this.lookUp(userId), false)));
        if (due.length < DUE_BATCH) return;
      }
    } catch (err) {
      logger.warn({ err: { message: (err as Error)?.message } }, 'offline notices due not told; retrying');
    } finally {
      this.telling = false;
    }
  }

  private async lookUp(userId: string): Promise<UserSummary> {
    return (await this.options.users.get(userId).catch(() => undefined)) ?? { userId, username: userId, avatar: '' };
  }

  private async tell(user: UserSummary, online: boolean): Promise<void> {
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
}
