import { isRoomConversation, MsgType } from '@im/protocol';

/**
 * Whose sockets a transient frame on a room's channel skips: the typist's (typing goes to the
 * others) and, for a room event about one member, that member's (they get it on their own
 * channel, with the membership change applied: see devices/). Undefined: everyone in the room.
 * Only room frames are read (parsed once per gateway, not per socket); group and private
 * transients are Part 1's presence and file notices.
 */
export function skippedUserOf(conversation: string, frame: Buffer): string | undefined {
  if (!isRoomConversation(conversation)) return undefined;
  try {
    const parsed = JSON.parse(frame.toString('utf8')) as { msg_type?: unknown; user_id?: unknown };
    if (parsed.msg_type !== MsgType.Typing && parsed.msg_type !== MsgType.RoomEvent) return undefined;
    return typeof parsed.user_id === 'string' ? parsed.user_id : undefined;
  } catch {
    return undefined;
  }
}
