import type { ParsedConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { toConversationFrames } from './part2-frames.ts';
import type { ConversationMessagesQuery } from './schemas.ts';

const NEWEST = 2n ** 64n - 1n;

/**
 * `GET /api/conversations/<c>/messages`: `{count, list}` with `list` always in id order (oldest
 * first). `after_id`: the `limit` messages after it; `before_id`: the `limit` messages before it;
 * neither: the latest `limit`. `count` is the conversation's total. Reads through the history
 * reader (the Part 1 history's statements and index), so pages cost the same.
 */
export async function conversationMessages(ctx: ApiContext, conversation: ParsedConversation, query: ConversationMessagesQuery) {
  const filter = { conversation: conversation.id };
  const { limit } = query;
  if (query.after_id !== undefined) {
    const { count, messages } = await ctx.history.findHistory(filter, { kind: 'after', afterId: query.after_id }, limit);
    return { count, list: toConversationFrames(ctx, messages) };
  }
  const beforeId = query.before_id ?? NEWEST;
  const { count, messages } = await ctx.history.findHistory(filter, { kind: 'before', beforeId }, limit);
  return { count, list: toConversationFrames(ctx, messages.reverse()) };
}
