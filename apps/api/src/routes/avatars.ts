import Router from '@koa/router';
import { errors } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import { AVATAR_FILE_PATTERN } from '../avatar/avatar-paths.ts';

/**
 * Avatars at their public path without a token: browsers load them in `<img>`. Only names the
 * server itself makes are accepted, so nothing else under the storage root is reachable here.
 */
export function avatarsRouter(ctx: ApiContext): Router {
  const router = new Router();

  router.get('/uploads/avatar/:name', async (http) => {
    const name = http.params.name ?? '';
    if (!AVATAR_FILE_PATTERN.test(name)) throw errors.notFound();
    const key = `avatar/${name}`;
    const size = await ctx.storage.size(key);
    if (size === undefined) throw errors.notFound();
    http.set('X-Content-Type-Options', 'nosniff');
    http.set('Cache-Control', 'public, max-age=300');
    http.type = 'image/png';
    http.length = size;
    http.body = ctx.storage.read(key);
  });

  return router;
}
