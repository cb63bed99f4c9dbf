// Renders deploy/nginx/im-cluster.conf.template for the settings in force (settings.yaml, IM_CONFIG,
// environment overrides), for an nginx you run yourself. `npm run up` renders its own copy.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '@im/config';
import { exitWithMessage, loadConfigOrExit } from '@im/runtime';
import { DEPLOY_NGINX_PATHS, nginxOptionsFromConfig, renderNginxConfig } from './nginx-config.ts';

const usage = `usage: node --import tsx scripts/cluster/render-nginx.ts [options]

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

const preset = args.deploy ? { ...DEPLOY_NGINX_PATHS, listen: String(config.system.port) } : undefined;
const prefix = args.prefix ? resolve(args.prefix) : (preset?.prefix ?? resolve(projectRoot, 'var/nginx'));
const text = renderNginxConfig(
  nginxOptionsFromConfig(config, {
    prefix,
    listen: args.listen ?? preset?.listen,
    // A new prefix moves the pid file along unless it is given.
    pidFile: args.pid ?? (args.prefix ? undefined : preset?.pidFile),
    errorLog: args['error-log'] ?? preset?.errorLog,
    accessLog: args['access-log'] ?? preset?.accessLog,
    user: args.user,
    webRoot: args['web-root'] ? resolve(args['web-root']) : preset?.webRoot,
  }),
);
if (args.out) writeFileSync(args.out, text);
else process.stdout.write(text);
