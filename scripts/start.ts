// `npm start` / `npm run up`: checks MySQL and Redis, applies migrations, then runs the whole
// cluster in the foreground: the API, the mail worker, gateway.count gateways and a front door on
// the public port (nginx when installed, else a built-in Node proxy), and prints where it listens.
// Ctrl-C stops it all. Environment read here besides the config's own variables:
//   FRONT_DOOR=auto|nginx|node   which front door (default auto: nginx when installed)
//   NGINX_BIN                    the nginx binary (default: found on PATH or in /usr/sbin)
//   NGINX_PREFIX                 nginx's rendered config, temp files and logs (default var/nginx)
//   GATEWAY_BASE_PORT            first gateway port (default gateway.base_port)
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { relative, resolve } from 'node:path';
import { ConfigError, loadConfig, projectRoot, type Config } from '@im/config';
import { applyMigrations, pingServer } from '@im/db';
import { checkMysql, connectRedis, exitWithMessage, StartupError } from '@im/runtime';
import { chooseFrontDoor, FrontDoorError, supportsErrorLogFlag, type FrontDoorChoice } from './cluster/front-door.ts';
import { hostPort, nginxOptionsFromConfig, prepareNginxDirs, renderNginxConfig } from './cluster/nginx-config.ts';
import { Supervisor, type ServiceSpec } from './cluster/supervisor.ts';
import { webAppBuilt } from './cluster/static-files.ts';
import { entryFile, isBuilt } from './build/entries.ts';

// Started from the build (`npm run start:prod`), the processes run from the build too.
const built = isBuilt(import.meta.url);

let config: Config;
let frontDoor: FrontDoorChoice;
try {
  config = loadConfig();
  frontDoor = chooseFrontDoor(process.env);
} catch (err) {
  if (err instanceof ConfigError || err instanceof FrontDoorError) exitWithMessage(err.message);
  throw err;
}

const host = config.system.host;
// The API, the worker and the gateways listen on system.internal_host (loopback unless a front
// door on another host reaches them) whatever system.host says: only the front door is public,
// and only it may set X-Forwarded-For (system.trusted_proxies). README "Several hosts".
const internalHost = config.system.internal_host;
/** Where this host's front door reaches them: a wildcard bind on loopback. */
const internalTarget = internalHost === '0.0.0.0' ? '127.0.0.1' : internalHost === '::' ? '::1' : internalHost;
const publicPort = config.system.port;
const apiPort = config.system.api_port;
const workerPort = config.worker.port;
const gatewayBasePort = readBasePort(process.env.GATEWAY_BASE_PORT, config.gateway.base_port);
const gatewayPorts = Array.from({ length: config.gateway.count }, (_, i) => gatewayBasePort + i);
checkPortsDistinct();

try {
  const redis = await connectRedis(config.redis, { name: 'start', deadlines: config.redis });
  redis.disconnect();
  await checkMysql('start', () => pingServer(config.mysql.url), config.mysql.url);
} catch (err) {
  if (err instanceof StartupError) exitWithMessage(err.message);
  throw err;
}

const migrated = await applyMigrations(config.mysql.url, resolve(projectRoot, 'prisma/migrations')).catch((err: Error) =>
  exitWithMessage(`start: migrations failed: ${err.message}`),
);
process.stderr.write(`migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied.length} already there\n`);

const supervisor = new Supervisor();
process.once('SIGINT', () => void supervisor.stop(0));
process.once('SIGTERM', () => void supervisor.stop(0));

const publicUrl = `http://${urlHost(host)}:${publicPort}`;
const apiUrl = `http://${urlHost(internalHost)}:${apiPort}`;
const workerUrl = `http://${urlHost(internalHost)}:${workerPort}`;
const gatewayUrl = (port: number) => `http://${urlHost(internalHost)}:${port}`;
// What the API, the worker's ops port and the gateways bind to (BIND_HOST is system.host).
const internal = { BIND_HOST: internalHost };

try {
  // Each is started again with backoff if it crashes once ready (scripts/cluster/supervisor.ts).
  await Promise.all([
    supervisor.start({ name: 'api', entry: entryFile('api', built), env: { ...process.env, ...internal, API_PORT: String(apiPort) }, readyUrl: `${apiUrl}/readyz` }),
    supervisor.start({ name: 'worker', entry: entryFile('worker', built), env: { ...process.env, ...internal }, readyUrl: `${workerUrl}/readyz` }),
    ...gatewayPorts.map((port, i) =>
      supervisor.start({
        name: `gw-${i}`,
        entry: entryFile('gateway', built),
        env: { ...process.env, ...internal, GATEWAY_PORT: String(port), GATEWAY_ID: `gw-${i}` },
        readyUrl: `${gatewayUrl(port)}/readyz`,
      }),
    ),
  ]);
  await supervisor.start(frontDoorSpec());
} catch (err) {
  process.stderr.write(`start: ${(err as Error).message}\n`);
  await supervisor.stop(1);
}

const mail = config.email.smtp_url
  ? 'sent through SMTP_URL'
  : `written as .eml files to ${shown(config.email.outbox_dir)} (set SMTP_URL to send real mail)`;
const wsUrl = publicUrl.replace(/^http/, 'ws');
process.stderr.write(
  [
    '',
    'IM cluster is up.',
    `  public       ${publicUrl}`,
    `    web app    ${webAppBuilt(config.web.root) ? `${publicUrl}/  (${shown(config.web.root)})` : 'not built: run npm run build:web (npm run up builds it)'}`,
    `    API        ${publicUrl}/api  (health: ${publicUrl}/healthz, readiness: ${publicUrl}/readyz)`,
    `    chat       ${wsUrl}/api/chat (one socket per device), ${wsUrl}/api/chat_groups, ${wsUrl}/api/chat_private?target_id=…`,
    ...frontDoorLines(),
    `  API          ${apiUrl} (direct)`,
    `  gateways     ${gatewayPorts.map((port, i) => `gw-${i} ${gatewayUrl(port).replace(/^http/, 'ws')}`).join(', ')} (direct; /healthz, /readyz, /metrics)`,
    `  mail         ${mail}`,
    `  mail worker  ${workerUrl} (/healthz, /readyz, /metrics)`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n') + '\n',
);

function frontDoorSpec(): ServiceSpec {
  // The front door stops last: gateways tell their clients to reconnect through it while draining.
  const readyUrl = `${publicUrl}/readyz`;
  if (frontDoor.kind === 'nginx') {
    const prefix = nginxPrefix();
    const conf = resolve(prefix, 'im-cluster.conf');
    // As root nginx would run its workers as `nobody`, who may not reach var/nginx: keep our user.
    const user = process.getuid?.() === 0 ? userInfo().username : undefined;
    // front_door lists every API and gateway when some run on other hosts; else this host's own.
    const options = nginxOptionsFromConfig(config, { prefix, user }, gatewayBasePort, {
      ...(config.front_door.apis.length === 0 ? { apis: [{ host: internalTarget, port: apiPort }] } : {}),
      ...(config.front_door.gateways.length === 0 ? { gateways: gatewayPorts.map((port) => ({ host: internalTarget, port })) } : {}),
    });
    prepareNginxDirs(options);
    writeFileSync(conf, renderNginxConfig(options));
    return {
      name: 'nginx',
      command: frontDoor.bin,
      args: ['-p', prefix, '-c', conf, '-g', 'daemon off;', ...(supportsErrorLogFlag(frontDoor.version) ? ['-e', 'stderr'] : [])],
      env: process.env,
      readyUrl,
      stopSignal: 'SIGQUIT',
      stopLast: true,
    };
  }
  return {
    name: 'front-door',
    entry: entryFile('frontDoor', built),
    env: {
      ...process.env,
      FRONT_DOOR_LISTEN: hostPort({ host, port: publicPort }),
      FRONT_DOOR_API: hostPort({ host: internalTarget, port: apiPort }),
      FRONT_DOOR_GATEWAYS: gatewayPorts.map((port) => hostPort({ host: internalTarget, port })).join(','),
    },
    readyUrl,
    stopLast: true,
  };
}

function frontDoorLines(): string[] {
  if (frontDoor.kind === 'nginx') {
    const prefix = nginxPrefix();
    return [
      `  front door   nginx ${frontDoor.version} (config ${shown(resolve(prefix, 'im-cluster.conf'))}, access log ${shown(resolve(prefix, 'logs/access.log'))})`,
    ];
  }
  if (frontDoor.reason === 'chosen') return ['  front door   built-in Node proxy (FRONT_DOOR=node)'];
  return [
    '  front door   built-in Node proxy: nginx was not found. Fine for development; for the nginx',
    '               front door install it (apt-get install -y nginx) and npm run up uses it.',
  ];
}

function nginxPrefix(): string {
  return resolve(projectRoot, process.env.NGINX_PREFIX || 'var/nginx');
}

function readBasePort(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port + config.gateway.count - 1 > 65535) {
    exitWithMessage(`start: GATEWAY_BASE_PORT must be a port with room for ${config.gateway.count} gateways, got ${JSON.stringify(raw)}`);
  }
  return port;
}

function checkPortsDistinct(): void {
  const owners = new Map<number, string>();
  const claim = (port: number, owner: string) => {
    const other = owners.get(port);
    if (other) exitWithMessage(`start: ${owner} and ${other} both want port ${port}; give them different ports`);
    owners.set(port, owner);
  };
  claim(publicPort, 'system.port (PORT)');
  claim(apiPort, 'system.api_port (API_PORT)');
  claim(workerPort, 'worker.port (WORKER_PORT)');
  gatewayPorts.forEach((port, i) => claim(port, `gateway ${i} (gateway.base_port + ${i})`));
}

/** A host for URLs we call or print: wildcard binds are reached on loopback. */
function urlHost(bind: string): string {
  if (bind === '0.0.0.0') return '127.0.0.1';
  if (bind === '::') return '[::1]';
  return bind.includes(':') ? `[${bind}]` : bind;
}

/** Paths inside the project are shown relative to it, as the README writes them. */
function shown(path: string): string {
  const inside = relative(projectRoot, path);
  return inside.startsWith('..') || inside === '' ? path : inside;
}
