import { visibleConversations } from '@im/db';
import { errors, type ParsedConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';

/**
 * Throws 404 / 1005 unless `userId` may see the conversation: the same answer for a room that
 * does not exist, one they are not in and a private chat of others, so ids cannot be probed.
 */
export async function requireVisible(ctx: ApiContext, userId: string, conversation: ParsedConversation): Promise<void> {
  if (conversation.kind === 'group') return;
  const visible = await visibleConversations(ctx.sql, userId, [conversation]);
  if (!visible.has(conversation.id)) throw errors.notFound('会话不存在');
}
