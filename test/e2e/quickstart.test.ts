import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, startSmtpSink, uniquePrefix, type SmtpSink, type TestDatabase } from '@im/testing';
import { freePort, type RunningProcess } from '../support/cluster-process.ts';
import { ChatClient } from '../support/chat-client.ts';
import { freePortRange, isListening, pidOf, productionRoot, startCommand } from './e2e-helpers.ts';

/**
 * The README's start command as a user runs it: real processes (start script, API, worker, a
 * gateway, the front door — nginx when installed), real MariaDB and Redis, and mail delivered over
 * SMTP to a local sink. Every request goes through the public port; the API has its own.
 * With IM_PRODUCTION_ROOT (scripts/check-production.sh) it runs the production start command of
 * that install (the build on plain node, after `npm ci --omit=dev`) instead of the sources.
 */
describe('quick start: register, receive the code by SMTP, log in, list, chat, log out', () => {
  let database: TestDatabase;
  let smtp: SmtpSink;
  let cluster: RunningProcess;
  let base: string;
  let ports: number[];
  let nginxPrefix: string;

  before(async () => {
    database = await createTestDatabase();
    smtp = await startSmtpSink();
    const [port, apiPort, gatewayPort, workerPort] = [await freePort(), await freePort(), await freePortRange(1), await freePort()];
    ports = [port, apiPort, gatewayPort, workerPort];
    base = `http://127.0.0.1:${port}`;
    nginxPrefix = mkdtempSync(join(tmpdir(), 'im-e2e-nginx-'));
    cluster = startCommand({
      DATABASE_URL: database.url,
      REDIS_PREFIX: uniquePrefix('e2e'),
      SMTP_URL: smtp.url,
      MAIL_FROM: 'IM Test <no-reply@test.local>',
      PORT: String(port),
      API_PORT: String(apiPort),
      WORKER_PORT: String(workerPort),
      GATEWAY_COUNT: '1',
      GATEWAY_BASE_PORT: String(gatewayPort),
      NGINX_PREFIX: nginxPrefix,
      LOG_LEVEL: 'warn',
    });
    await cluster.waitForLine('IM cluster is up');
  });

  after(async () => {
    await cluster?.stop();
    await smtp?.close();
    await database?.drop();
    rmSync(nginxPrefix, { recursive: true, force: true });
  });

  it('prints the public URL, the front door and the API behind it', async () => {
    const [port, apiPort, gatewayPort] = ports;
    const text = cluster.output.join('\n');
    assert.match(text, new RegExp(`public +http://127\\.0\\.0\\.1:${port}\\b`));
    assert.match(text, new RegExp(`chat +ws://127\\.0\\.0\\.1:${port}/api/chat \\(one socket per device\\), ws://127\\.0\\.0\\.1:${port}/api/chat_groups`));
    assert.match(text, /front door +(nginx|built-in Node proxy)/);
    assert.match(text, new RegExp(`API +http://127\\.0\\.0\\.1:${apiPort} \\(direct\\)`));
    assert.match(text, new RegExp(`gw-0 ws://127\\.0\\.0\\.1:${gatewayPort}`));
    // The API itself answers on its own port, the front door on the public one.
    assert.equal((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it('serves /metrics on the API, the mail worker and the gateway, and not through the front door', async () => {
    const [, apiPort, gatewayPort, workerPort] = ports;
    assert.match(cluster.output.join('\n'), new RegExp(`mail worker +http://127\\.0\\.0\\.1:${workerPort} `));
    for (const [port, metric] of [[apiPort, 'im_api_requests_total'], [workerPort, 'im_worker_mails_total'], [gatewayPort, 'im_gateway_connections']] as const) {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(response.status, 200, `port ${port}`);
      assert.match(await response.text(), new RegExp(`^# TYPE ${metric} `, 'm'));
    }
    assert.equal((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status, 200);
    const outside = await fetch(`${base}/metrics`);
    assert.equal(outside.status, 404);
    assert.equal((await outside.json()).code, 1005);
  });

  it('runs every process from the production build on plain node', { skip: !productionRoot && 'sources under tsx (IM_PRODUCTION_ROOT unset)' }, () => {
    for (const service of ['api', 'worker', 'gw-0']) {
      const commandLine = readFileSync(`/proc/${pidOf(cluster.output, service)}/cmdline`, 'utf8').split('\0');
      assert.ok(commandLine.some((arg) => arg.startsWith(productionRoot!) && arg.endsWith('/dist/index.js')), `${service}: ${commandLine.join(' ')}`);
      assert.ok(!commandLine.includes('tsx'), `${service} runs without tsx`);
    }
  });

  const post = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, ...(await response.json()) };
  };

  it('works end to end, and the token is dead after logout', async () => {
    const account = { email: `e2e-${Date.now()}@example.com`, username: '端到端用户', password: 'correct horse battery' };
    assert.equal((await post('/api/users/register', account)).code, 0);

    const step1 = await post('/api/users/login', { email: account.email, password: account.password });
    assert.equal(step1.msg, '验证码已发送');
    const mail = await smtp.waitFor((m) => m.to !== undefined && JSON.stringify(m.to).includes(account.email), 20_000);
    assert.match(String(mail.from?.text), /no-reply@test\.local/);
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
    assert.ok(code, 'the mail carries a 6-digit code');

    const step2 = await post('/api/users/login', { ...account, code });
    assert.equal(step2.code, 0, step2.msg);
    const token = step2.data.token;

    const list = await (await fetch(`${base}/api/users`, { headers: { authorization: `bearer ${token}` } })).json();
    assert.equal(list.code, 0);
    assert.equal(list.data.list[0].user_name, account.username);

    // The README's chat step: a message through the front door to a gateway and back, then in history.
    const chat = await ChatClient.connect(base, { token });
    chat.send({ msg_type: 4, content: 'hello from the quick start', client_msg_id: 'qs-1' });
    const echo = await chat.next((frame) => frame.client_msg_id === 'qs-1');
    assert.equal(echo.content, 'hello from the quick start');
    await chat.close();
    const history = await (await fetch(`${base}/api/chat_groupList`, { headers: { authorization: `bearer ${token}` } })).json();
    assert.equal(history.data.list[0].id, echo.id);

    assert.equal((await post('/api/users/logout', {}, token)).msg, '注销成功');
    const dead = await fetch(`${base}/api/users`, { headers: { authorization: `bearer ${token}` } });
    assert.equal(dead.status, 401);
    assert.equal((await dead.json()).code, 1003);

    // Nothing secret reached the processes' output.
    const output = cluster.output.join('\n');
    for (const secret of [account.password, code, token]) assert.ok(!output.includes(secret!));
  });

  it('stops every process on SIGTERM with exit code 0', async () => {
    assert.equal(await cluster.stop(), 0);
    for (const port of ports) assert.equal(await isListening(port), false, `port ${port} is closed`);
  });
});

describe('quick start refuses to run without its backing services or with bad settings', () => {
  it('names the Redis URL that failed and how to start Redis', async () => {
    const run = startCommand({ REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'warn' });
    const line = await run.waitForLine('cannot reach Redis', 20_000);
    assert.match(line, /redis:\/\/127\.0\.0\.1:1/);
    assert.match(line, /redis-server/);
    assert.equal(await run.exited, 1);
  });

  it('names the MySQL URL that failed and how to start MariaDB', async () => {
    const run = startCommand({ DATABASE_URL: 'mysql://root@127.0.0.1:1/im', LOG_LEVEL: 'warn' });
    const line = await run.waitForLine('cannot reach MySQL', 20_000);
    assert.match(line, /mysql:\/\/root@127\.0\.0\.1:1\/im/);
    assert.match(line, /mariadbd/);
    assert.equal(await run.exited, 1);
  });

  it('refuses a bad setting with one line naming the key', async () => {
    const run = startCommand({ PORT: 'eighty' });
    const line = await run.waitForLine('config:', 20_000);
    assert.match(line, /system\.port/);
    assert.equal(await run.exited, 1);
  });

  it('refuses FRONT_DOOR=nginx without nginx, and says how to install it', async () => {
    const run = startCommand({ FRONT_DOOR: 'nginx', NGINX_BIN: '/nonexistent/nginx' });
    const line = await run.waitForLine('FRONT_DOOR=nginx', 20_000);
    assert.match(line, /apt-get install -y nginx/);
    assert.equal(await run.exited, 1);
  });

  it('refuses a front door it does not know', async () => {
    const run = startCommand({ FRONT_DOOR: 'caddy' });
    const line = await run.waitForLine('FRONT_DOOR', 20_000);
    assert.match(line, /nginx, node or auto/);
    assert.equal(await run.exited, 1);
  });

  it('refuses two processes on one port, naming both', async () => {
    const run = startCommand({ PORT: '9000', API_PORT: '9000' });
    const line = await run.waitForLine('both want port 9000', 20_000);
    assert.match(line, /system\.api_port \(API_PORT\) and system\.port \(PORT\)/);
    assert.equal(await run.exited, 1);
  });

  it('refuses to start in production without a JWT secret of its own', async () => {
    const run = startCommand({ NODE_ENV: 'production' });
    const line = await run.waitForLine('config:', 20_000);
    assert.match(line, /jwt\.secret/);
    assert.equal(await run.exited, 1);
  });
});
