import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

/**
 * The web app at `/`, the way both front doors serve it (deploy/nginx/im-cluster.conf.template
 * does the same in nginx): paths the API owns go to the API; a GET or HEAD for anything else is
 * a file of the built app (apps/web/dist), or index.html when no file matches and the path has
 * no extension (the app routes itself: "SPA fallback"). Other methods there answer 405, as
 * nginx's static module does.
 *
 * Caching: Vite names everything under /assets/ by its content hash, so those are cached for a
 * year (`immutable`); index.html and the few unhashed files are revalidated on every load
 * (`no-cache` with an ETag), so a new build reaches browsers at once.
 */

/** Paths the API serves (everything under /api and /uploads, and the probes); `/metrics` is
 * answered 404 by the front doors before this (Prometheus scrapes each process's own port). */
export const API_PATHS = /^\/(?:api|uploads)(?:\/|$)|^\/(?:healthz|readyz)$/;

/** Vite's `build.assetsDir`: every file under it has a content hash in its name. */
export const HASHED_ASSETS_PREFIX = '/assets/';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/** Whether `npm run build:web` has put the app in `root`. */
export function webAppBuilt(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/** Whether this path belongs to the web app rather than the API. */
export function isAppPath(path: string): boolean {
  return !API_PATHS.test(path);
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves the built app from `root`; looks at the folder on each request, so a rebuild shows at once. */
export function createStaticFiles(root: string): StaticHandler {
  const serve = sirv(root, {
    // Reads the folder per request instead of indexing it once at start: `npm run build:web`
    // while the cluster runs replaces every file.
    dev: true,
    etag: true,
    single: true,
    setHeaders(res, pathname) {
      res.setHeader('Cache-Control', pathname.startsWith(HASHED_ASSETS_PREFIX) ? IMMUTABLE : REVALIDATE);
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    serve(req, res, () => {
      const built = webAppBuilt(root);
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': REVALIDATE });
      res.end(built ? 'Not found\n' : `The web app is not built: run \`npm run build:web\` (it goes to ${root}).\n`);
    });
  };
}
