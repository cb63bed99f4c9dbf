import type { z } from 'zod';
import { verifyAgainstDummy, verifyPassword } from '@im/auth';
import { errors } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import type { loginInput } from './schemas.ts';
import { toUserView, type UserView } from './user-view.ts';

export type LoginResult =
  | { kind: 'code-sent' }
  | { kind: 'token'; token: string; token_type: 'bearer'; expires_at: string; user: UserView };

/**
 * Two-step login (CONTRACT.md, Users). Every request carries the password, so a stolen code alone
 * is useless. All state lives in Redis keyed by the user, so concurrent logins of different users
 * never meet (the original kept it in one global variable).
 */
export async function login(ctx: ApiContext, input: z.infer<typeof loginInput>, ip: string): Promise<LoginResult> {
  await ctx.limits.loginAttempt(ip);
  await ctx.limits.assertAccountOpen(input.email);

  const user = await ctx.db.user.findUnique({ where: { email: input.email } });
  const passwordOk = user
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyAgainstDummy(input.password);
  if (!user || !passwordOk) {
    await ctx.limits.accountFailure(input.email);
    throw errors.wrongCredentials();
  }

  if (ctx.config.email.verification) {
    if (input.code === undefined) {
      await sendCode(ctx, user.userId, user.email);
      return { kind: 'code-sent' };
    }
    const check = await ctx.loginCodes.check(user.userId, input.code);
    if (check === 'exhausted') throw errors.codeExhausted();
    if (check !== 'ok') {
      await ctx.limits.accountFailure(input.email);
      throw errors.wrongCode();
    }
  }

  const issued = await ctx.tokens.issue({ userId: user.userId, username: user.username });
  ctx.logger.info({ user_id: user.userId }, 'login succeeded');
  return {
    kind: 'token',
    token: issued.token,
    token_type: 'bearer',
    expires_at: issued.expiresAt.toISOString(),
    user: toUserView(user),
  };
}

async function sendCode(ctx: ApiContext, userId: string, email: string): Promise<void> {
  const code = await ctx.loginCodes.issue(userId);
  const minutes = Math.round(ctx.config.email.code_ttl_seconds / 60);
  await ctx.mail.enqueue({
    to: email,
    subject: '登录验证码 / Your login code',
    text:
      `您的登录验证码是 ${code}，${minutes} 分钟内有效，仅可使用一次。\n` +
      `Your login code is ${code}. It is valid for ${minutes} minutes and can be used once.\n\n` +
      `如果不是您本人操作，请忽略本邮件。 If you did not try to log in, ignore this mail.\n`,
  });
  ctx.logger.info({ user_id: userId }, 'login code queued');
}
