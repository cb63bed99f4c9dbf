// Renders deploy/nginx/im-cluster.conf.template for the settings in force (settings.yaml, IM_CONFIG,
// environment overrides), for an nginx you run yourself. `npm run up` renders its own copy.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '@im/config';
import { exitWithMessage, loadConfigOrExit } from '@im/runtime';
import { COMPOSE_NGINX, DEPLOY_NGINX_PATHS, nginxOptionsFromConfig, renderNginxConfig, type Upstream } from './nginx-config.ts';

const usage = `usage: node dist/render-nginx.js [options]   (from the sources: node --import tsx scripts/cluster/render-nginx.ts)

  --deploy           the paths of deploy/systemd: prefix /var/lib/im-cluster/nginx, access log
                     /var/log/im-cluster/nginx-access.log, errors to stderr (journald), listen on
                     every address at system.port, the app from /opt/im-cluster/apps/web/dist;
                     the options below override single paths
  --prefix DIR       temp folders go under DIR/tmp; pid and access log default under DIR (default var/nginx)
  --listen ADDR      listen address (default system.host:system.port, e.g. 127.0.0.1:8080)
  --pid FILE         pid file (default DIR/nginx.pid)
  --error-log FILE   error log, or stderr (default stderr)
  --access-log FILE  access log (default DIR/logs/access.log)
  --user NAME        worker user when nginx starts as root (default: none)
  --web-root DIR     the built web app served at / (default web.root; with --deploy
                     /opt/im-cluster/apps/web/dist)
  --api HOST:PORT    an API upstream, once per API (default front_door.apis, API_UPSTREAMS;
                     else system.host:system.api_port)
  --gateway HOST:PORT
                     a gateway upstream, once per gateway (default front_door.gateways,
                     GATEWAY_UPSTREAMS; else gateway.count of them on system.host from
                     gateway.base_port). Upstreams on other hosts belong in front_door (or
                     the environment): a later render without flags keeps them.
  --compose          the container setup of compose.yaml (deploy/docker/nginx.conf): nginx's
                     official image, upstreams api:8090, gateway-1:8101 and gateway-2:8101
  --out FILE         write there instead of stdout
`;

let args;
try {
  args = parseArgs({
    options: {
      deploy: { type: 'boolean' },
      prefix: { type: 'string' },
      listen: { type: 'string' },
      pid: { type: 'string' },
      'error-log': { type: 'string' },
      'access-log': { type: 'string' },
      user: { type: 'string' },
      'web-root': { type: 'string' },
      api: { type: 'string', multiple: true },
      gateway: { type: 'string', multiple: true },
      compose: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  exitWithMessage(`${(err as Error).message}\n${usage}`);
}
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const config = loadConfigOrExit();

if (args.deploy && args.compose) exitWithMessage(`--deploy and --compose are two different setups; give one\n${usage}`);
const preset = args.compose ? COMPOSE_NGINX : args.deploy ? { ...DEPLOY_NGINX_PATHS, listen: String(config.system.port), user: undefined } : undefined;
const prefix = args.prefix ? resolve(args.prefix) : (preset?.prefix ?? resolve(projectRoot, 'var/nginx'));
const text = renderNginxConfig(
  nginxOptionsFromConfig(
    config,
    {
      prefix,
      listen: args.listen ?? preset?.listen,
      // A new prefix moves the pid file along unless it is given.
      pidFile: args.pid ?? (args.prefix ? undefined : preset?.pidFile),
      errorLog: args['error-log'] ?? preset?.errorLog,
      accessLog: args['access-log'] ?? preset?.accessLog,
      user: args.user ?? preset?.user,
      webRoot: args['web-root'] ? resolve(args['web-root']) : preset?.webRoot,
    },
    undefined,
    {
      // Given ones win over the preset's; neither means settings.yaml's.
      apis: args.api !== undefined ? args.api.map((value) => upstream('--api', value)) : args.compose ? COMPOSE_NGINX.upstreams.apis : undefined,
      gateways: args.gateway !== undefined ? args.gateway.map((value) => upstream('--gateway', value)) : args.compose ? COMPOSE_NGINX.upstreams.gateways : undefined,
    },
  ),
);
if (args.out) writeFileSync(args.out, text);
else process.stdout.write(text);

function upstream(option: string, value: string): Upstream {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) exitWithMessage(`render-nginx: ${option} must be HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}
