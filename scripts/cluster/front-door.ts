import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What serves the public port. `FRONT_DOOR` picks it: `nginx`, `node` (the built-in proxy), or
 * `auto` / unset: nginx when it is installed, the built-in proxy otherwise.
 */
export type FrontDoorChoice =
  | { kind: 'nginx'; bin: string; version: string }
  | { kind: 'node'; reason: 'chosen' | 'nginx-missing' };

export class FrontDoorError extends Error {
  override name = 'FrontDoorError';
}

/** Where distributions put nginx; /usr/sbin is not on an ordinary user's PATH on Debian. */
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];

/** The nginx binary: `NGINX_BIN` when set, else the first `nginx` on PATH or in the sbin folders. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NGINX_BIN) return isExecutable(env.NGINX_BIN) ? env.NGINX_BIN : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  return dirs.map((dir) => join(dir, 'nginx')).find(isExecutable);
}

export function chooseFrontDoor(env: NodeJS.ProcessEnv = process.env): FrontDoorChoice {
  const wanted = (env.FRONT_DOOR ?? 'auto').trim().toLowerCase() || 'auto';
  if (!['auto', 'nginx', 'node'].includes(wanted)) {
    throw new FrontDoorError(`start: FRONT_DOOR must be nginx, node or auto, got ${JSON.stringify(env.FRONT_DOOR)}`);
  }
  if (wanted === 'node') return { kind: 'node', reason: 'chosen' };
  const bin = findNginx(env);
  if (bin) return { kind: 'nginx', bin, version: nginxVersion(bin) };
  if (wanted === 'nginx') {
    throw new FrontDoorError(
      'start: FRONT_DOOR=nginx but nginx was not found (PATH, /usr/sbin, NGINX_BIN); install it with ' +
        '`apt-get install -y nginx`, or unset FRONT_DOOR to use the built-in proxy',
    );
  }
  return { kind: 'node', reason: 'nginx-missing' };
}

/** `1.22.1` from `nginx -v` (which prints to stderr). */
export function nginxVersion(bin: string): string {
  const run = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return /nginx\/([\d.]+)/.exec(`${run.stderr ?? ''}${run.stdout ?? ''}`)?.[1] ?? 'unknown';
}

/** `-e` (error log before the config is read) exists from nginx 1.19.5 on. */
export function supportsErrorLogFlag(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && (minor > 19 || (minor === 19 && patch >= 5)));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
