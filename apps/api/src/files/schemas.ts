import { z } from 'zod';

const userId = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{10}$/, 'target_id 是 10 位十六进制 user_id');

/**
 * `POST /api/files/upload?target_id=` (Part 1: absent or empty means a group file) or
 * `?conversation=` (Part 2: any conversation; checked by the route). Not both.
 */
export const uploadQuery = z
  .object({
    target_id: z
      .string()
      .optional()
      .transform((value) => (value?.trim() ? value : undefined))
      .pipe(userId.optional()),
    conversation: z
      .string('conversation 只能出现一次')
      .optional()
      .transform((value) => (value?.trim() ? value.trim() : undefined)),
  })
  .superRefine((query, ctx) => {
    if (query.target_id !== undefined && query.conversation !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['conversation'], message: 'conversation 与 target_id 不能同时使用' });
    }
  });

/**
 * `GET /api/files/download?file=` (required once; a name the server never made is a 404, not a
 * 400), with `expires` and `sig` when it is a signed link.
 */
export const downloadQuery = z.object({
  file: z.string('file 参数必填且只能出现一次').min(1, 'file 参数必填'),
  expires: z.string('expires 只能出现一次').optional(),
  sig: z.string('sig 只能出现一次').optional(),
});

/** `sort` is allow-listed: a value outside this list never reaches the query. */
const FILE_SORTS = {
  'created_at asc': 'createdAt',
  'created_at desc': 'createdAt',
  'file_size asc': 'size',
  'file_size desc': 'size',
} as const;
type FileSort = keyof typeof FILE_SORTS;

export const listFilesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  sort: z
    .string()
    .trim()
    .transform((value) => value.replace(/\s+/g, ' ').toLowerCase())
    .transform((value) => (/^\w+$/.test(value) ? `${value} asc` : value))
    .pipe(z.enum(Object.keys(FILE_SORTS) as [FileSort], 'sort 只能是 created_at|file_size asc|desc'))
    .default('created_at desc')
    .meta({ description: 'created_at|file_size, then asc|desc (default asc); any case and spacing. Default: created_at desc' }),
});

export type ListFilesQuery = z.infer<typeof listFilesQuery>;

export function fileOrderBy(sort: FileSort) {
  const direction = sort.endsWith('desc') ? ('desc' as const) : ('asc' as const);
  // Ties broken by id in the same direction so pages never overlap or skip.
  return [{ [FILE_SORTS[sort]]: direction }, { id: direction }];
}
