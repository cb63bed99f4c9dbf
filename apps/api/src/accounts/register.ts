import { randomBytes } from 'node:crypto';
import { hashPassword } from '@im/auth';
import { Prisma } from '@im/db';
import { errors } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { avatarKey, avatarPublicPath } from '../avatar/avatar-paths.ts';
import { identiconPng } from '../avatar/identicon.ts';
import type { registerInput } from './schemas.ts';
import type { z } from 'zod';
import { toUserView, type UserView } from './user-view.ts';
import { uniqueViolationField } from './unique-violation.ts';

const MAX_ID_ATTEMPTS = 5;

/**
 * Creates the account and its default avatar. The avatar is written first and removed again if
 * the row cannot be created, so a failure leaves neither a row without an avatar nor a stray file.
 */
export async function registerUser(ctx: ApiContext, input: z.infer<typeof registerInput>): Promise<UserView> {
  const taken = await ctx.db.user.findFirst({
    where: { OR: [{ email: input.email }, { username: input.username }] },
    select: { email: true, username: true },
  });
  if (taken) throw conflictFor(taken.email === input.email ? 'email' : 'username');

  const passwordHash = await hashPassword(input.password);

  for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
    const userId = randomBytes(5).toString('hex');
    await ctx.storage.put(avatarKey(userId), identiconPng(userId));
    try {
      const user = await ctx.db.user.create({
        data: { userId, email: input.email, username: input.username, passwordHash, avatar: avatarPublicPath(userId) },
      });
      return toUserView(user);
    } catch (err) {
      await ctx.storage.remove(avatarKey(userId));
      const field = err instanceof Prisma.PrismaClientKnownRequestError ? uniqueViolationField(err) : undefined;
      if (field === 'user_id') continue; // 1 in 10^12 per pair: pick another id
      if (field) throw conflictFor(field);
      throw err;
    }
  }
  throw errors.internal();
}

function conflictFor(field: string) {
  return field === 'email' ? errors.conflict('email', '邮箱已被注册') : errors.conflict('username', '用户名已被使用');
}
