import type { InboxCursor } from '@im/db';
import { errors, parseConversation } from '@im/protocol';

// The inbox's `next`: the last entry's activity time and conversation, opaque to clients.

export function encodeInboxCursor(cursor: InboxCursor): string {
  return Buffer.from(`${cursor.activityAt.getTime()}:${cursor.conversation}`).toString('base64url');
}

/** The cursor a previous page returned; anything else is 1002. */
export function decodeInboxCursor(text: string): InboxCursor {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  const ms = Number(decoded.slice(0, colon));
  const conversation = decoded.slice(colon + 1);
  if (colon < 1 || !/^\d{1,15}$/.test(decoded.slice(0, colon)) || !parseConversation(conversation)) {
    throw errors.invalidParameter('before 应为上一页返回的 next', { errors: [{ field: 'before', message: '无效的游标' }] });
  }
  return { activityAt: new Date(ms), conversation };
}
