import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { projectRoot, type Config } from '@im/config';

/** deploy/nginx/im-cluster.conf.template: the one source of every rendered nginx config. */
export const NGINX_TEMPLATE = resolve(projectRoot, 'deploy/nginx/im-cluster.conf.template');

export interface Upstream {
  host: string;
  port: number;
}

/** What the template needs; `nginxOptionsFromConfig` derives it from settings.yaml. */
export interface NginxConfigOptions {
  /** `listen` argument: `8080`, `127.0.0.1:8080`, `[::]:8080`. */
  listen: string;
  gateways: readonly Upstream[];
  apis: readonly Upstream[];
  /** Temp folders (request bodies, proxy buffers) go under this directory. */
  tempDir: string;
  pidFile: string;
  /** A path or `stderr`. */
  errorLog: string;
  /** A path, or `off`. */
  accessLog: string;
  /** upload.max_file_bytes; nginx allows this plus room for the multipart envelope. */
  maxFileBytes: number;
  /** gateway.heartbeat_ms; socket timeouts are three heartbeats, at least 75 s. */
  heartbeatMs: number;
  /** web.root: the built web app served at `/`. */
  webRoot: string;
  /**
   * Worker user when nginx starts as root (it would switch to `nobody` otherwise, who may not
   * reach the temp folders). Ignored by nginx when not root, so left out then.
   * @default undefined (no `user` directive)
   */
  user?: string;
}

/** Multipart boundaries and part headers around the file; generous, the API checks the exact size. */
const MULTIPART_ROOM_BYTES = 1024 * 1024;

/** Fills the template. Throws when a value is missing or the template names an unknown one. */
export function renderNginxConfig(options: NginxConfigOptions, template = readFileSync(NGINX_TEMPLATE, 'utf8')): string {
  if (options.gateways.length === 0) throw new Error('nginx config: at least one gateway is needed');
  if (options.apis.length === 0) throw new Error('nginx config: at least one API is needed');
  const socketTimeoutS = Math.max(75, Math.ceil((options.heartbeatMs * 3) / 1000));
  const values: Record<string, string> = {
    user_directive: options.user ? `user ${options.user};` : '',
    pid_file: options.pidFile,
    error_log: options.errorLog,
    access_log: options.accessLog,
    temp_dir: options.tempDir,
    listen: options.listen,
    gateway_servers: options.gateways
      .map((gateway) => `        server ${hostPort(gateway)} max_fails=1 fail_timeout=10s;`)
      .join('\n'),
    // nginx passes over an API that refused a connection for 10 s by default (max_fails=1).
    api_servers: options.apis.map((api) => `        server ${hostPort(api)};`).join('\n'),
    client_max_body_size: String(options.maxFileBytes + MULTIPART_ROOM_BYTES),
    heartbeat_s: String(Math.round(options.heartbeatMs / 100) / 10),
    socket_timeout: `${socketTimeoutS}s`,
    web_root: options.webRoot,
  };
  // Paths and addresses land unquoted in the config: one token each.
  for (const name of ['pid_file', 'error_log', 'access_log', 'temp_dir', 'listen', 'web_root'] as const) {
    if (!/^[^\s;{}'"$]+$/.test(values[name]!)) {
      throw new Error(`nginx config: ${name} must be one word without ';', quotes, '$' or braces: ${JSON.stringify(values[name])}`);
    }
  }
  return template.replace(/\{\{(\w+)\}\}/g, (_all, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx config: the template names an unknown value {{${name}}}`);
    return value;
  });
}

/** Creates the folders the config names (temp, log, pid), which nginx does not create itself. */
export function prepareNginxDirs(options: NginxConfigOptions): void {
  mkdirSync(options.tempDir, { recursive: true });
  for (const file of [options.pidFile, options.accessLog, options.errorLog]) {
    if (isAbsolute(file)) mkdirSync(dirname(file), { recursive: true });
  }
}

export interface NginxPaths {
  /** Directory for temp folders; the pid file and logs default to places under it. */
  prefix: string;
  pidFile?: string;
  errorLog?: string;
  accessLog?: string;
  /** @default `${system.host}:${system.port}` */
  listen?: string;
  user?: string;
  /** @default web.root */
  webRoot?: string;
}

/**
 * Where the units in deploy/systemd expect nginx's files (`render-nginx.ts --deploy`); also the
 * paths of deploy/nginx/im-cluster.conf.example. Listens on every address.
 */
export const DEPLOY_NGINX_PATHS: Required<Omit<NginxPaths, 'user'>> = {
  prefix: '/var/lib/im-cluster/nginx',
  pidFile: '/var/lib/im-cluster/nginx/nginx.pid',
  errorLog: 'stderr',
  accessLog: '/var/log/im-cluster/nginx-access.log',
  listen: '8080',
  // deploy/README.md installs into /opt/im-cluster and builds the app there.
  webRoot: '/opt/im-cluster/apps/web/dist',
};

/**
 * The paths and upstreams of the container setup (compose.yaml): nginx's official image, with the
 * API and two gateways as compose services, the access log on stdout (`docker compose logs`).
 * deploy/docker/nginx.conf is this rendered (`render-nginx.ts --compose`).
 */
export const COMPOSE_NGINX: Required<NginxPaths> & { upstreams: Required<Upstreams> } = {
  prefix: '/var/cache/nginx/im-cluster',
  pidFile: '/tmp/nginx.pid',
  errorLog: 'stderr',
  accessLog: '/dev/stdout',
  listen: '8080',
  user: 'nginx',
  // The nginx image's own web root. The images do not build the web app yet: mount a build there
  // (`npm run build:web`, apps/web/dist) to serve it; without one `/` answers 404.
  webRoot: '/usr/share/nginx/html',
  upstreams: {
    apis: [{ host: 'api', port: 8090 }],
    gateways: [
      { host: 'gateway-1', port: 8101 },
      { host: 'gateway-2', port: 8101 },
    ],
  },
};

/** Upstreams elsewhere than settings.yaml says (other hosts, containers). */
export interface Upstreams {
  apis?: readonly Upstream[];
  gateways?: readonly Upstream[];
}

/**
 * The cluster's nginx as settings.yaml describes it: the APIs and gateways `front_door` lists
 * (other hosts included), or else this host's: gateways on base_port…, the API on api_port, on
 * system.host. `upstreams` (command-line flags, the start command's own ports) wins over both.
 */
export function nginxOptionsFromConfig(
  config: Config,
  paths: NginxPaths,
  gatewayBasePort = config.gateway.base_port,
  upstreams: Upstreams = {},
): NginxConfigOptions {
  const host = config.system.host;
  return {
    listen: paths.listen ?? hostPort({ host, port: config.system.port }),
    gateways:
      upstreams.gateways ??
      listed(config.front_door.gateways) ??
      Array.from({ length: config.gateway.count }, (_, i) => ({ host, port: gatewayBasePort + i })),
    apis: upstreams.apis ?? listed(config.front_door.apis) ?? [{ host, port: config.system.api_port }],
    tempDir: resolve(paths.prefix, 'tmp'),
    pidFile: paths.pidFile ?? resolve(paths.prefix, 'nginx.pid'),
    errorLog: paths.errorLog ?? 'stderr',
    accessLog: paths.accessLog ?? resolve(paths.prefix, 'logs/access.log'),
    maxFileBytes: config.upload.max_file_bytes,
    heartbeatMs: config.gateway.heartbeat_ms,
    webRoot: paths.webRoot ?? config.web.root,
    user: paths.user,
  };
}

/** `front_door` addresses as upstreams; undefined when none are listed. */
function listed(addresses: readonly string[]): Upstream[] | undefined {
  if (addresses.length === 0) return undefined;
  return addresses.map((address) => {
    const colon = address.lastIndexOf(':');
    return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
  });
}

/** `host:port`, with IPv6 hosts in brackets. */
export function hostPort({ host, port }: Upstream): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
