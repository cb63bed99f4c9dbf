import type { z } from 'zod';
import type { ApiContext } from '../services.ts';
import { userOrderBy, type listUsersInput } from './schemas.ts';
import { toUserView, type UserView } from './user-view.ts';

/** One page of users; `count` is the total number of users, not the page size. */
export async function listUsers(
  ctx: ApiContext,
  { limit, page, sort }: z.infer<typeof listUsersInput>,
): Promise<{ count: number; list: UserView[] }> {
  const [count, users] = await Promise.all([
    ctx.db.user.count(),
    ctx.db.user.findMany({ orderBy: userOrderBy(sort), skip: (page - 1) * limit, take: limit }),
  ]);
  return { count, list: users.map(toUserView) };
}
