import type { Broker } from '@im/bus';
import type { Logger } from '@im/logger';
import type { RoomEventFrame } from '@im/protocol';

/**
 * Room events (msg_type 11) leave the API here, and only here. Where each one goes:
 *
 * - `created`: on the user channel of every initial member, creator included (for their other
 *   devices); the room's channel has no subscriber yet.
 * - an event about one member (`member_added`, `member_removed`, `role_changed`): on the room's
 *   channel, for the other members, and on that member's user channel, for them. A gateway
 *   delivers a room-channel event to its sockets in the room except `user_id`'s, and a
 *   user-channel event to that user's sockets; so nobody gets one twice, and a member who is
 *   added or removed is reached whether or not their gateway follows the room yet. The user
 *   channel is also the gateway's cue to start (added) or stop (removed, at once) delivering the
 *   room to that user's sockets.
 * - `renamed`: on the room's channel only.
 *
 * Channels: `room:{r:<room_id>}` (the gateways' room channel, hash-tagged for Redis Cluster) and
 * `user:{<user_id>}`. Payload: the gateways' transient wire format, `p<TAB>0<TAB>0<TAB>` then the
 * frame's JSON exactly as clients receive it (see `encodeRoomEvent`).
 *
 * Events are published after the change is committed and are not stored: a publish that fails
 * (Redis down) is logged, and the change stands. Clients resynchronise a room with
 * `GET /api/rooms/<room_id>` after reconnecting.
 */
export interface RoomEvents {
  /** `created`, to each of `memberIds`. */
  created(frame: RoomEventFrame, memberIds: readonly string[]): Promise<void>;
  /** Any other event, in order: the room's channel, plus the user channel of `frame.user_id`. */
  changed(frames: readonly RoomEventFrame[]): Promise<void>;
}

export function roomChannel(conversation: string): string {
  return `room:{${conversation}}`;
}

export function userChannel(userId: string): string {
  return `user:{${userId}}`;
}

/**
 * The bytes on the bus. Kept to this one function so the wire codec the gateways settle on can
 * replace it; today it is their transient format, which carries no id or seq because room
 * events are not stored.
 */
export function encodeRoomEvent(frame: RoomEventFrame): string {
  return `p\t0\t0\t${JSON.stringify(frame)}`;
}

export interface BusRoomEventsOptions {
  broker: Broker;
  logger: Logger;
  /** Longest the publishes of one change may take before they are given up (and logged). @default 2_000 */
  deadlineMs?: number;
}

export function createBusRoomEvents({ broker, logger, deadlineMs = 2_000 }: BusRoomEventsOptions): RoomEvents {
  /**
   * Publishes in the order given: all are issued at once on one connection, which keeps their
   * order per channel, and awaited together. Never throws.
   */
  async function send(messages: Array<[channel: string, frame: RoomEventFrame]>): Promise<void> {
    if (messages.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), deadlineMs);
    });
    const all = Promise.allSettled(messages.map(([channel, frame]) => broker.publish(channel, encodeRoomEvent(frame))));
    try {
      const outcome = await Promise.race([all, expired]);
      const failed = outcome === 'expired' ? messages.length : outcome.filter((result) => result.status === 'rejected').length;
      if (failed > 0) {
        const first = messages[0]![1];
        logger.error(
          { conversation: first.conversation, event: first.event, failed, of: messages.length, timed_out: outcome === 'expired' },
          'room events not published',
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    created: (frame, memberIds) => send([...new Set(memberIds)].map((userId) => [userChannel(userId), frame])),
    changed: (frames) =>
      send(
        frames.flatMap((frame): Array<[string, RoomEventFrame]> => {
          const out: Array<[string, RoomEventFrame]> = [[roomChannel(frame.conversation), frame]];
          if (frame.user_id !== undefined) out.push([userChannel(frame.user_id), frame]);
          return out;
        }),
      ),
  };
}
