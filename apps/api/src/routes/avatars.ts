import Router from '@koa/router';
import { errors, ok } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { authenticate, type AuthState } from '../middleware/authenticate.ts';
import { AVATAR_CONTENT_TYPES, AVATAR_FILE_PATTERN } from '../avatar/avatar-paths.ts';
import { uploadAvatar } from '../avatar/upload-avatar.ts';

/**
 * Avatars at their public path without a token: browsers load them in `<img>`. Only names the
 * server itself makes are accepted, so nothing else under the storage root is reachable here.
 * Also `POST /api/users/avatar`, which makes those names.
 */
export function avatarsRouter(ctx: ApiContext): Router<AuthState> {
  const router = new Router<AuthState>();

  router.get('/uploads/avatar/:name', async (http) => {
    const name = http.params.name ?? '';
    if (!AVATAR_FILE_PATTERN.test(name)) throw errors.notFound();
    const key = `avatar/${name}`;
    const size = await ctx.storage.size(key);
    if (size === undefined) throw errors.notFound();
    http.set('X-Content-Type-Options', 'nosniff');
    http.set('Content-Security-Policy', "default-src 'none'; sandbox");
    // Uploaded avatars get a new name each time, so they never change; the default one may be
    // regenerated under the same name.
    http.set('Cache-Control', name.includes('-') ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    http.type = AVATAR_CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    http.length = size;
    http.body = ctx.storage.read(key);
  });

  router.post('/api/users/avatar', authenticate(ctx.tokens), async (http) => {
    const userId = http.state.auth.userId;
    const user = await uploadAvatar(ctx, userId, http.req);
    ctx.logger.info({ user_id: userId, avatar: user.avatar }, 'avatar changed');
    http.body = ok(user, '头像已更新');
  });

  return router;
}
