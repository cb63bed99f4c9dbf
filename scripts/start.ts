// `npm start` / `npm run up`: checks MySQL and Redis, applies migrations, then runs the API and
// the mail worker in the foreground and prints where the cluster listens. Ctrl-C stops it all.
import { resolve } from 'node:path';
import { ConfigError, loadConfig, projectRoot } from '@im/config';
import { applyMigrations, pingServer } from '@im/db';
import { checkMysql, connectRedis, exitWithMessage, StartupError } from '@im/runtime';
import { Supervisor, waitUntilReady } from './cluster/supervisor.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) exitWithMessage(err.message);
  throw err;
}

try {
  const redis = await connectRedis(config.redis.url, { name: 'start' });
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

const apiUrl = `http://${config.system.host}:${config.system.port}`;
supervisor.start({ name: 'api', entry: 'apps/api/src/index.ts', env: { ...process.env, PORT: String(config.system.port) } });
supervisor.start({ name: 'worker', entry: 'apps/worker/src/index.ts', env: process.env });

try {
  await waitUntilReady(`${apiUrl}/readyz`);
} catch (err) {
  process.stderr.write(`start: ${(err as Error).message}\n`);
  await supervisor.stop(1);
}

const mail = config.email.smtp_url
  ? 'sent through SMTP_URL'
  : `written as .eml files to ${config.email.outbox_dir} (set SMTP_URL to send real mail)`;
process.stderr.write(
  [
    '',
    `IM cluster is up.`,
    `  API          ${apiUrl}/api  (health: ${apiUrl}/healthz, readiness: ${apiUrl}/readyz)`,
    `  mail         ${mail}`,
    `  Ctrl-C stops everything.`,
    '',
  ].join('\n') + '\n',
);
