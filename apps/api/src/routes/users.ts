import Router from '@koa/router';
import { ok } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { parseInput } from '../validation.ts';
import { listUsersInput, loginInput, registerInput } from '../accounts/schemas.ts';
import { registerUser } from '../accounts/register.ts';
import { login } from '../accounts/login.ts';
import { listUsers } from '../accounts/list-users.ts';
import { notificationSettingsInput, readNotificationSettings, updateNotificationSettings } from '../notifications/notification-settings.ts';

export function usersRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/users' });
  const requireAuth = authenticate(ctx.tokens);

  router.post('/register', async (http) => {
    await ctx.limits.registerAttempt(http.ip);
    const input = parseInput(registerInput, http.request.body);
    const user = await registerUser(ctx, input);
    ctx.logger.info({ user_id: user.user_id }, 'user registered');
    http.body = ok(user, `用户创建成功 ${user.user_name}`);
  });

  router.post('/login', async (http) => {
    const input = parseInput(loginInput, http.request.body);
    const result = await login(ctx, input, http.ip);
    if (result.kind === 'code-sent') {
      http.body = ok({}, '验证码已发送');
      return;
    }
    const { kind: _kind, ...data } = result;
    http.body = ok(data, '登录成功');
  });

  router.post('/logout', requireAuth, async (http) => {
    const { jti, expiresAt, userId } = http.state.auth;
    await ctx.revocations.revoke(jti, expiresAt);
    ctx.logger.info({ user_id: userId }, 'logged out');
    http.body = ok({}, '注销成功');
  });

  router.get('/notifications', requireAuth, async (http) => {
    http.body = ok(await readNotificationSettings(ctx, http.state.auth.userId));
  });

  router.put('/notifications', requireAuth, async (http) => {
    const input = parseInput(notificationSettingsInput, http.request.body);
    const settings = await updateNotificationSettings(ctx, http.state.auth.userId, input);
    ctx.logger.info({ user_id: http.state.auth.userId, digest: settings.digest }, 'notification settings changed');
    http.body = ok(settings);
  });

  router.get('/', requireAuth, async (http) => {
    const input = parseInput(listUsersInput, http.query);
    http.body = ok(await listUsers(ctx, input));
  });

  return router;
}
