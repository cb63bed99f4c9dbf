import { z } from 'zod';

/**
 * History `sort` values. Allow-listed: a value outside this list never reaches the query. Both
 * `created_at` sorts are served as id order, which is the same order within a conversation and
 * walks the (conversation, id) index.
 */
export const HISTORY_SORTS = ['created_at asc', 'created_at desc', 'username asc', 'username desc'] as const;
export type HistorySort = (typeof HISTORY_SORTS)[number];

/** Where a page starts: an OFFSET page, or a cursor that needs no OFFSET. */
export type HistoryWindow =
  | { kind: 'page'; page: number; sort: HistorySort }
  /** id > afterId, oldest first. */
  | { kind: 'after'; afterId: bigint }
  /** id < beforeId, newest first. */
  | { kind: 'before'; beforeId: bigint };

export interface HistoryQuery {
  limit: number;
  window: HistoryWindow;
}

const MAX_ID = 2n ** 64n - 1n;

// Same tolerance as `GET /api/users`: any case, any spacing, direction optional (asc).
const sort = z
  .string()
  .trim()
  .transform((value) => value.replace(/\s+/g, ' ').toLowerCase())
  .transform((value) => (/^\w+$/.test(value) ? `${value} asc` : value))
  .pipe(z.enum(HISTORY_SORTS, 'sort 只能是 created_at|username asc|desc'))
  .meta({ description: 'created_at|username, then asc|desc (default asc); any case and spacing. Default: created_at desc' });

export const messageId = z
  .string()
  .trim()
  .regex(/^\d{1,20}$/, '必须是消息 id (非负整数)')
  .transform((value) => BigInt(value))
  .refine((value) => value <= MAX_ID, '消息 id 超出范围');

/** Empty means "not given", as the contract says for `username`. */
const optionalName = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const common = {
  limit: z.coerce.number().int().min(1).max(100).default(10),
  page: z.coerce.number().int().min(1).max(100_000).optional(),
  sort: sort.optional(),
  before_id: messageId.optional(),
  after_id: messageId.optional(),
  username: optionalName,
};

type CommonParsed = {
  limit: number;
  page?: number | undefined;
  sort?: HistorySort | undefined;
  before_id?: bigint | undefined;
  after_id?: bigint | undefined;
};

/** Cursor rules: one cursor at most, no OFFSET with it, and only the sort it already implies. */
function checkWindow(input: CommonParsed, ctx: z.RefinementCtx): void {
  const { before_id, after_id, page, sort } = input;
  if (before_id === undefined && after_id === undefined) return;
  if (before_id !== undefined && after_id !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['before_id'], message: 'before_id 与 after_id 不能同时使用' });
    return;
  }
  if (page !== undefined && page !== 1) {
    ctx.addIssue({ code: 'custom', path: ['page'], message: '使用 before_id/after_id 时不能翻页' });
  }
  const implied: HistorySort = after_id !== undefined ? 'created_at asc' : 'created_at desc';
  if (sort !== undefined && sort !== implied) {
    const cursor = after_id !== undefined ? 'after_id' : 'before_id';
    ctx.addIssue({ code: 'custom', path: ['sort'], message: `${cursor} 只能与 sort=${implied} 一起使用` });
  }
}

function toQuery(input: CommonParsed): HistoryQuery {
  const { limit } = input;
  if (input.after_id !== undefined) return { limit, window: { kind: 'after', afterId: input.after_id } };
  if (input.before_id !== undefined) return { limit, window: { kind: 'before', beforeId: input.before_id } };
  return { limit, window: { kind: 'page', page: input.page ?? 1, sort: input.sort ?? 'created_at desc' } };
}

/** `GET /api/chat_groupList`: `username` filters by sender; empty or unknown shows all. */
export const groupListInput = z
  .object(common)
  .superRefine(checkWindow)
  .transform((input) => ({ ...toQuery(input), username: input.username }));

export type GroupListInput = z.infer<typeof groupListInput>;

/** `GET /api/chat_privateList`: the peer by `username` or `target_id`; neither means every peer. */
export const privateListInput = z
  .object({
    ...common,
    target_id: z
      .string()
      .trim()
      .optional()
      .transform((value) => (value ? value.toLowerCase() : undefined))
      .pipe(z.string().regex(/^[0-9a-f]{10}$/, 'target_id 是 10 位十六进制 user_id').optional()),
  })
  .superRefine(checkWindow)
  .transform((input) => ({ ...toQuery(input), username: input.username, targetId: input.target_id }));

export type PrivateListInput = z.infer<typeof privateListInput>;
