import { z } from 'zod';
import { errors, parseConversation, type ParsedConversation } from '@im/protocol';
import { messageId } from '../history/schemas.ts';

/** The `<conversation>` of a path: canonical ids only (see parseConversation), else 1002. */
export function conversationParam(value: string | undefined): ParsedConversation {
  const parsed = parseConversation(value);
  if (parsed) return parsed;
  const message = 'conversation 应为 group、r:<room_id> 或 p:<user_id>:<user_id>（两个 id 升序）';
  throw errors.invalidParameter(message, { errors: [{ field: 'conversation', message }] });
}

/** `GET /api/conversations?limit&before`. */
export const inboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.string().min(1).max(200).optional(),
});

/** `GET /api/conversations/<c>/messages?before_id&after_id&limit`: one cursor at most. */
export const conversationMessagesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    before_id: messageId.optional(),
    after_id: messageId.optional(),
  })
  .superRefine((input, ctx) => {
    if (input.before_id !== undefined && input.after_id !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['before_id'], message: 'before_id 与 after_id 不能同时使用' });
    }
  });

export type ConversationMessagesQuery = z.infer<typeof conversationMessagesQuery>;

const MAX_ID = 2n ** 64n - 1n;

/** `POST /api/conversations/<c>/read {last_read_id}`: a message id, as a number or a decimal string. */
export const readInput = z.object({
  last_read_id: z
    .union([z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,20}$/)], 'last_read_id 必须是消息 id')
    .transform((value) => BigInt(value))
    .refine((value) => value >= 1n && value <= MAX_ID, '消息 id 超出范围'),
});
