import { z } from 'zod';

// Rules from docs/protocol.md (Users). Usernames end up in frames and file metadata, never in paths,
// but separators, control characters and a leading dot are still refused as the contract says.
const username = z
  .string()
  .trim()
  .min(1, '用户名不能为空')
  .max(32, '用户名最多 32 个字符')
  .refine((name) => !/[/\\\p{Cc}]/u.test(name), '用户名不能包含 / \\ 或控制字符')
  .refine((name) => !name.startsWith('.'), '用户名不能以 . 开头');

const email = z.string().trim().toLowerCase().max(254, '邮箱过长').pipe(z.email('邮箱格式不正确'));
const password = z.string().min(8, '密码至少 8 个字符').max(128, '密码最多 128 个字符');

export const registerInput = z.object({ email, username, password });

export const loginInput = z.object({
  email,
  // Login accepts any length up to the maximum so an old password policy cannot lock anyone out.
  password: z.string().min(1, '密码不能为空').max(128, '密码最多 128 个字符'),
  code: z.string().regex(/^\d{6}$/, '验证码为 6 位数字').optional(),
});

/** `sort` is allow-listed: a value outside this list never reaches the query. */
const USER_SORTS = {
  'username asc': { username: 'asc' },
  'username desc': { username: 'desc' },
  'created_at asc': { createdAt: 'asc' },
  'created_at desc': { createdAt: 'desc' },
} as const;

export const listUsersInput = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  sort: z
    .string()
    .trim()
    .transform((value) => value.replace(/\s+/g, ' ').toLowerCase())
    .transform((value) => (/^\w+$/.test(value) ? `${value} asc` : value))
    .pipe(z.enum(Object.keys(USER_SORTS) as [keyof typeof USER_SORTS], 'sort 只能是 username|created_at asc|desc'))
    .default('username asc')
    .meta({ description: 'username|created_at, then asc|desc (default asc); any case and spacing. Default: username asc' }),
});

export function userOrderBy(sort: keyof typeof USER_SORTS) {
  // Ties broken by id so pages never overlap or skip.
  return [USER_SORTS[sort], { userId: 'asc' as const }];
}
