import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSmtpSink, type SmtpSink } from '@im/testing';
import { startProcess, type RunningProcess } from '../../test/support/cluster-process.ts';
import { freeEnginePort, freeEnginePortBlock } from '../../test/support/engine-ports.ts';
import { startMariaDbServer, type TestMariaDbServer } from '../../test/support/mariadb-server.ts';
import { startRedisServer, type TestRedisServer } from '../../test/support/redis-server.ts';
import { writeSettingsFile } from '../../test/support/settings-file.ts';
import type { LoadUser } from './chat-load.ts';

/**
 * The whole cluster as `npm start` runs it (supervisor, front door, API, worker, gateways), on a
 * private Redis and a private MariaDB that the chaos tool may kill and freeze, never the shared
 * ones. Ports come from IM_TEST_ENGINE_PORTS (default 24000-24999); data directories are
 * temporary and deleted by stop().
 */
export interface ChaosCluster {
  redis: TestRedisServer;
  mariadb: TestMariaDbServer;
  smtp: SmtpSink;
  start: RunningProcess;
  publicUrl: string;
  apiUrl: string;
  gatewayUrls: string[];
  prefix: string;
  /** The newest pid the start command printed for `service` (`api`, `worker`, `gw-0` …). */
  pidOf(service: string): number;
  /** Registers and logs in `count` users through the front door (codes read from the SMTP sink). */
  users(count: number, label: string): Promise<Array<LoadUser & { email: string; password: string }>>;
  stop(): Promise<void>;
}

export async function startChaosCluster(options: { gateways: number; frontDoor: string; env?: NodeJS.ProcessEnv }): Promise<ChaosCluster> {
  const [redis, mariadb, smtp] = await Promise.all([startRedisServer(), startMariaDbServer(), startSmtpSink()]);
  const [port, apiPort, workerPort, gatewayBase] = [await freeEnginePort(), await freeEnginePort(), await freeEnginePort(), await freeEnginePortBlock(options.gateways)];
  // The load comes from one address: the abuse limits would count it as one attacker.
  const settings = writeSettingsFile({ rate_limit: { login_per_ip: 1_000_000, login_per_account: 1_000_000, register_per_ip: 1_000_000 } });
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'im-chaos-nginx-'));
  const prefix = `chaos-${randomBytes(3).toString('hex')}:`;
  const start = startProcess('scripts/start.ts', {
    IM_CONFIG: settings.path,
    DATABASE_URL: mariadb.databaseUrl('im_chaos'),
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    PORT: String(port),
    API_PORT: String(apiPort),
    WORKER_PORT: String(workerPort),
    GATEWAY_COUNT: String(options.gateways),
    GATEWAY_BASE_PORT: String(gatewayBase),
    FRONT_DOOR: options.frontDoor,
    NGINX_PREFIX: nginxPrefix,
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const cleanUp = async () => {
    await redis.resume();
    await mariadb.thaw();
    await start.stop(30_000);
    await Promise.allSettled([smtp.close(), redis.stop(), mariadb.stop()]);
    settings.remove();
    rmSync(nginxPrefix, { recursive: true, force: true });
  };
  try {
    await start.waitForLine('IM cluster is up', 120_000);
  } catch (err) {
    await cleanUp();
    throw err;
  }

  const publicUrl = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(publicUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await response.json()) as { code: number; msg: string; data: any };
  };
  let counter = 0;
  const oneUser = async (label: string) => {
    const tag = `${label}${(counter += 1)}x${randomBytes(2).toString('hex')}`;
    const account = { email: `${tag}@chaos.test`, username: tag, password: `pw-${tag}-long` };
    const registered = await post('/api/users/register', account);
    if (registered.code !== 0) throw new Error(`register ${tag}: ${registered.msg}`);
    const sentBefore = smtp.mails.length;
    const step1 = await post('/api/users/login', { email: account.email, password: account.password });
    if (step1.code !== 0) throw new Error(`login ${tag}: ${step1.msg}`);
    const mail = await smtp.waitFor((m) => smtp.mails.indexOf(m) >= sentBefore && JSON.stringify(m.to).includes(account.email), 60_000);
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
    const step2 = await post('/api/users/login', { ...account, code });
    if (step2.code !== 0) throw new Error(`login step 2 ${tag}: ${step2.msg}`);
    return { ...account, userId: registered.data.user_id as string, token: step2.data.token as string };
  };

  return {
    redis,
    mariadb,
    smtp,
    start,
    publicUrl,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    gatewayUrls: Array.from({ length: options.gateways }, (_, i) => `http://127.0.0.1:${gatewayBase + i}`),
    prefix,
    pidOf(service) {
      const line = start.output.filter((l) => l.startsWith(`${service}: started (pid `) || l.startsWith(`${service}: restarted (pid `)).at(-1);
      const pid = Number(/\(pid (\d+)\)/.exec(line ?? '')?.[1]);
      if (!pid) throw new Error(`chaos: the start command printed no pid for ${service}`);
      return pid;
    },
    async users(count, label) {
      const made = [];
      // A few at a time: each login costs argon2 twice.
      for (let i = 0; i < count; i += 4) made.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, () => oneUser(label)))));
      return made;
    },
    stop: cleanUp,
  };
}
