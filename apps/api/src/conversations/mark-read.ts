import { moveReadCursor } from '@im/db';
import { errors, type ParsedConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';

/**
 * `POST /api/conversations/<c>/read`: moves the caller's read cursor forward; an older id
 * changes nothing and answers with where it is. The answer says whether it moved.
 */
export async function markRead(ctx: ApiContext, userId: string, conversation: ParsedConversation, lastReadId: bigint) {
  const result = await moveReadCursor(ctx.sql, userId, conversation, lastReadId);
  if (result.kind === 'not-member') throw errors.notFound('会话不存在');
  if (result.kind === 'not-in-conversation') {
    const message = `消息 ${lastReadId} 不在这个会话中`;
    throw errors.invalidParameter(message, { errors: [{ field: 'last_read_id', message }] });
  }
  return { conversation: conversation.id, last_read_id: Number(result.lastReadId), moved: result.moved };
}
