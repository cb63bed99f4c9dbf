import { MsgType, type PresenceFrame, type UserSummary } from '@im/protocol';
import type { UserLookup } from '../upgrade/user-directory.ts';
import type { Publisher } from './publisher.ts';

/**
 * Publishes joined (2) and left (3) frames to a room, cluster-wide. They are not stored: a client
 * that reconnects learns who is online from the next frames' online_count.
 *
 * Each notice goes to everyone in the room, so N users coming online cost N²/2 frames. A room
 * announces only while at most `maxOnline` users are online in it, counting the one who joins or
 * leaves (`gateway.presence_notice_max_online`); above that, online_count in every frame is
 * what clients have, as in large Discord guilds and Slack channels.
 */
export class PresenceAnnouncer {
  constructor(
    private readonly publisher: Pick<Publisher, 'transient'>,
    private readonly users: UserLookup,
    private readonly maxOnline: number,
  ) {}

  /** Whether a join that left `onlineCount` users online is announced. */
  private announcesJoin(onlineCount: number): boolean {
    return onlineCount <= this.maxOnline;
  }

  /** Whether a leave that left `onlineCount` users online is announced (the room had one more). */
  private announcesLeave(onlineCount: number): boolean {
    return onlineCount + 1 <= this.maxOnline;
  }

  async joined(room: string, user: UserSummary, onlineCount: number): Promise<void> {
    if (!this.announcesJoin(onlineCount)) return;
    await this.publish(room, user, MsgType.InRoom, `${user.username} 进入了聊天室`, onlineCount);
  }

  async left(room: string, user: UserSummary, onlineCount: number): Promise<void> {
    if (!this.announcesLeave(onlineCount)) return;
    await this.publish(room, user, MsgType.OutRoom, `${user.username} 离开了聊天室`, onlineCount);
  }

  /** For users of a dead gateway, known here only by id. */
  async leftById(room: string, userId: string, onlineCount: number): Promise<void> {
    if (!this.announcesLeave(onlineCount)) return;
    await this.left(room, await this.lookUp(userId), onlineCount);
  }

  async joinedById(room: string, userId: string, onlineCount: number): Promise<void> {
    if (!this.announcesJoin(onlineCount)) return;
    await this.joined(room, await this.lookUp(userId), onlineCount);
  }

  private async lookUp(userId: string): Promise<UserSummary> {
    const user = await this.users.get(userId).catch(() => undefined);
    return user ?? { userId, username: userId, avatar: '' };
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
    // A notice Redis refused is reported by the publisher; clients still learn the count from the next frames.
    await this.publisher.transient(room, JSON.stringify(frame));
  }
}
