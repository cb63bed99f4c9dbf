import type { z } from 'zod';
import { verifyAgainstDummy, verifyPassword, type CodeCheck } from '@im/auth';
import type { User } from '@im/db';
import { errors } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import type { loginInput } from './schemas.ts';
import { findUserByEmail } from './find-user-by-email.ts';
import { toUserView, type UserView } from './user-view.ts';

export type LoginResult =
  | { kind: 'code-sent' }
  | { kind: 'token'; token: string; token_type: 'bearer'; expires_at: string; user: UserView };

/**
 * Two-step login (docs/protocol.md, Users). Every request carries the password, so a stolen code alone
 * is useless. All state lives in Redis keyed by the user, so concurrent logins of different users
 * never meet (the original kept it in one global variable).
 *
 * argon2 runs once per login: step 1 verifies the password and keeps a keyed digest of it with the
 * code, and step 2 compares against that digest (docs/protocol.md, Users). A step 2 whose password does
 * not match it, an unknown email, or a step 2 without a pending code go through argon2 as step 1
 * does, so their answers and times stay alike.
 */
export async function login(ctx: ApiContext, input: z.infer<typeof loginInput>, ip: string): Promise<LoginResult> {
  const [, , user] = await Promise.all([
    ctx.limits.loginAttempt(ip),
    ctx.limits.assertAccountOpen(input.email),
    findUserByEmail(ctx.db, input.email),
  ]);
  const verification = ctx.config.email.verification;
  const code = verification ? input.code : undefined;
  const { account, check } = await checkCredentials(ctx, user, input.email, input.password, code);

  if (verification && check === undefined) {
    await sendCode(ctx, account, input.password);
    return { kind: 'code-sent' };
  }
  if (check === 'exhausted') throw errors.codeExhausted();
  if (check !== undefined && check !== 'ok') {
    await ctx.limits.accountFailure(input.email);
    throw errors.wrongCode();
  }

  const issued = await ctx.tokens.issue({ userId: account.userId, username: account.username });
  ctx.logger.info({ user_id: account.userId }, 'login succeeded');
  return {
    kind: 'token',
    token: issued.token,
    token_type: 'bearer',
    expires_at: issued.expiresAt.toISOString(),
    user: toUserView(account),
  };
}

/**
 * The account once its password is confirmed, and with a `code`, that code's check. Throws the
 * common wrong-credentials error (and counts the failure) for a wrong password or unknown email.
 */
async function checkCredentials(
  ctx: ApiContext,
  user: User | null,
  email: string,
  password: string,
  code: string | undefined,
): Promise<{ account: User; check: CodeCheck | undefined }> {
  if (user && code !== undefined) {
    const check = await ctx.loginCodes.check(user.userId, code, { password, passwordHash: user.passwordHash });
    if (check !== 'password-unconfirmed') return { account: user, check };
  }
  const passwordOk = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstDummy(password);
  if (!user || !passwordOk) {
    await ctx.limits.accountFailure(email);
    throw errors.wrongCredentials();
  }
  return { account: user, check: code === undefined ? undefined : await ctx.loginCodes.check(user.userId, code, 'verified') };
}

async function sendCode(ctx: ApiContext, user: User, password: string): Promise<void> {
  const code = await ctx.loginCodes.issue(user.userId, { password, passwordHash: user.passwordHash });
  const minutes = Math.round(ctx.config.email.code_ttl_seconds / 60);
  await ctx.mail.enqueue({
    to: user.email,
    subject: '登录验证码 / Your login code',
    text:
      `您的登录验证码是 ${code}，${minutes} 分钟内有效，仅可使用一次。\n` +
      `Your login code is ${code}. It is valid for ${minutes} minutes and can be used once.\n\n` +
      `如果不是您本人操作，请忽略本邮件。 If you did not try to log in, ignore this mail.\n`,
  });
  ctx.logger.info({ user_id: user.userId }, 'login code queued');
}
