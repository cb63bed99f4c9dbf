import type { Middleware } from 'koa';
import { extractBearer, type TokenClaims, type TokenService } from '@im/auth';
import { errors } from '@im/protocol';

export interface AuthState {
  auth: TokenClaims;
}

/**
 * Requires a valid token in `Authorization: bearer <jwt>` or, as the original accepted, a `token`
 * header. Puts the verified claims on `ctx.state.auth`.
 */
export function authenticate(tokens: TokenService): Middleware<AuthState> {
  return async (ctx, next) => {
    const token = extractBearer(ctx.get('authorization')) ?? extractBearer(ctx.get('token'));
    if (!token) throw errors.notAuthenticated('缺少登录令牌');
    ctx.state.auth = await tokens.verify(token);
    await next();
  };
}
