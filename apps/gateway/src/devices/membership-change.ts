import { MsgType } from '@im/protocol';

/**
 * What a room event on `userId`'s own channel means for their sockets: `joined` for `created`
 * (they are an initial member) and `member_added` about them, `left` for `member_removed` about
 * them; undefined for anything else (role changes, other frames).
 */
export function membershipChange(frame: Buffer, userId: string): 'joined' | 'left' | undefined {
  let parsed: { msg_type?: unknown; event?: unknown; user_id?: unknown };
  try {
    parsed = JSON.parse(frame.toString('utf8')) as typeof parsed;
  } catch {
    return undefined;
  }
  if (parsed.msg_type !== MsgType.RoomEvent) return undefined;
  if (parsed.event === 'created') return 'joined';
  if (parsed.user_id !== userId) return undefined;
  if (parsed.event === 'member_added') return 'joined';
  if (parsed.event === 'member_removed') return 'left';
  return undefined;
}
