import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, startSmtpSink, uniquePrefix, type SmtpSink, type TestDatabase } from '@im/testing';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';

/**
 * The README's start command as a user runs it: real processes (start script, API, worker), real
 * MariaDB and Redis, and mail delivered over SMTP to a local sink.
 */
describe('quick start: register, receive the code by SMTP, log in, list, log out', () => {
  let database: TestDatabase;
  let smtp: SmtpSink;
  let cluster: RunningProcess;
  let base: string;

  before(async () => {
    database = await createTestDatabase();
    smtp = await startSmtpSink();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    cluster = startProcess('scripts/start.ts', {
      DATABASE_URL: database.url,
      REDIS_PREFIX: uniquePrefix('e2e'),
      SMTP_URL: smtp.url,
      MAIL_FROM: 'IM Test <no-reply@test.local>',
      PORT: String(port),
      API_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    });
    await cluster.waitForLine('IM cluster is up');
  });

  after(async () => {
    await cluster?.stop();
    await smtp?.close();
    await database?.drop();
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
  });
});

describe('quick start refuses to run without its backing services', () => {
  it('names the Redis URL that failed and how to start Redis', async () => {
    const run = startProcess('scripts/start.ts', { REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'warn' });
    const line = await run.waitForLine('cannot reach Redis', 20_000);
    assert.match(line, /redis:\/\/127\.0\.0\.1:1/);
    assert.match(line, /redis-server/);
    assert.equal(await run.exited, 1);
  });

  it('names the MySQL URL that failed and how to start MariaDB', async () => {
    const run = startProcess('scripts/start.ts', { DATABASE_URL: 'mysql://root@127.0.0.1:1/im', LOG_LEVEL: 'warn' });
    const line = await run.waitForLine('cannot reach MySQL', 20_000);
    assert.match(line, /mysql:\/\/root@127\.0\.0\.1:1\/im/);
    assert.match(line, /mariadbd/);
    assert.equal(await run.exited, 1);
  });

  it('refuses a bad setting with one line naming the key', async () => {
    const run = startProcess('scripts/start.ts', { PORT: 'eighty' });
    const line = await run.waitForLine('config:', 20_000);
    assert.match(line, /system\.port/);
    assert.equal(await run.exited, 1);
  });

  it('refuses the default JWT secret in production', async () => {
    const run = startProcess('scripts/start.ts', { NODE_ENV: 'production' });
    const line = await run.waitForLine('config:', 20_000);
    assert.match(line, /jwt\.secret/);
    assert.equal(await run.exited, 1);
  });
});
