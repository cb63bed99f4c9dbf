import { readPositions } from '@im/db';
import type { ParsedConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';

/**
 * `GET /api/conversations/<c>/read`: the caller's read position and the furthest any other member
 * has read, for a client that missed read receipts while away (a reload, a reconnect). Read from
 * the primary: a replica a moment behind would take back a read mark the client just drew.
 * `others_read_id` is null where receipts do not go to the others: the group, and rooms above
 * the presence notice limit (gateway.presence_notice_max_online).
 */
export async function readPositionsOf(ctx: ApiContext, userId: string, conversation: ParsedConversation) {
  const { own, others } = await readPositions(ctx.sql, userId, conversation, ctx.config.gateway.presence_notice_max_online);
  return { conversation: conversation.id, last_read_id: Number(own), others_read_id: others === null ? null : Number(others) };
}
