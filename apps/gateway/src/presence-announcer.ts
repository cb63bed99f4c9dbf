import type { Broker } from '@im/bus';
import type { Db } from '@im/db';
import type { Logger } from '@im/logger';
import { MsgType, type PresenceFrame, type UserSummary } from '@im/protocol';
import { errorFields, roomChannel } from './rooms/rooms.ts';
import { encodeTransient } from './rooms/wire.ts';

/**
 * Publishes joined (2) and left (3) frames to a room, cluster-wide. They are not stored: a client
 * that reconnects learns who is online from the next frames' online_count.
 */
export class PresenceAnnouncer {
  constructor(
    private readonly broker: Broker,
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  joined(room: string, user: UserSummary, onlineCount: number): Promise<void> {
    return this.publish(room, user, MsgType.InRoom, `${user.username} 进入了聊天室`, onlineCount);
  }

  left(room: string, user: UserSummary, onlineCount: number): Promise<void> {
    return this.publish(room, user, MsgType.OutRoom, `${user.username} 离开了聊天室`, onlineCount);
  }

  /** For users of a dead gateway, known here only by id. */
  async leftById(room: string, userId: string, onlineCount: number): Promise<void> {
    const user = await this.db.user
      .findUnique({ where: { userId }, select: { userId: true, username: true, avatar: true } })
      .catch(() => null);
    await this.left(room, user ?? { userId, username: userId, avatar: '' }, onlineCount);
  }

  async joinedById(room: string, userId: string, onlineCount: number): Promise<void> {
    const user = await this.db.user
      .findUnique({ where: { userId }, select: { userId: true, username: true, avatar: true } })
      .catch(() => null);
    await this.joined(room, user ?? { userId, username: userId, avatar: '' }, onlineCount);
  }

  private async publish(room: string, user: UserSummary, msgType: 2 | 3, content: string, onlineCount: number) {
    const frame: PresenceFrame = {
      user_id: user.userId,
      username: user.username,
      avatar: user.avatar,
      msg_type: msgType,
      content,
      date: new Date().toISOString(),
      online_count: onlineCount,
    };
    try {
      await this.broker.publish(roomChannel(room), encodeTransient(JSON.stringify(frame)));
    } catch (err) {
      this.logger.warn({ err: errorFields(err), room }, 'presence frame not published');
    }
  }
}
