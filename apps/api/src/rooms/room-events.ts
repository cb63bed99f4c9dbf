import { encodeTransient, roomChannel, userChannel, type Broker, type OutgoingMessage } from '@im/bus';
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
 * Channels (`@im/bus` chat-channels.ts): `room:{r:<room_id>}`, the room's channel, and
 * `user:{<user_id>}`. Payload: the bus's transient chat message (`@im/bus` chat-wire.ts),
 * `2<TAB>t<TAB>r:<room_id><TAB>0<TAB>0<TAB>0<TAB>` then the frame's JSON exactly as clients receive
 * it, on both channels.
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

/** The bytes on the bus: a transient chat message of the room's conversation (room events are not stored). */
function encodeRoomEvent(frame: RoomEventFrame): string {
  return encodeTransient(frame.conversation, JSON.stringify(frame));
}

export interface BusRoomEventsOptions {
  broker: Broker;
  logger: Logger;
  /** Longest the publishes of one change may take before they are given up (and logged). @default 2_000 */
  deadlineMs?: number;
}

export function createBusRoomEvents({ broker, logger, deadlineMs = 2_000 }: BusRoomEventsOptions): RoomEvents {
  /**
   * Publishes in the order given, in one write (which keeps their order per channel), and waits
   * for Redis to take them, at most `deadlineMs`. Never throws: the change is committed already.
   */
  async function send(messages: Array<[channel: string, frame: RoomEventFrame]>): Promise<void> {
    if (messages.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), deadlineMs);
    });
    const outgoing: OutgoingMessage[] = messages.map(([channel, frame]) => ({ channel, payload: encodeRoomEvent(frame) }));
    const published = Promise.resolve()
      .then(() => broker.publishMany(outgoing))
      .catch((err: unknown) => outgoing.map(() => (err instanceof Error ? err : new Error(String(err)))));
    try {
      const outcome = await Promise.race([published, expired]);
      const failed = outcome === 'expired' ? messages.length : outcome.filter((error) => error !== undefined).length;
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
