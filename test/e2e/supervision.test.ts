import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { createTestDatabase, startSmtpSink, uniquePrefix, type SmtpSink, type TestDatabase } from '@im/testing';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';
import { freePortRange } from './e2e-helpers.ts';

/**
 * The start command as an operator runs it, under the abuse and crashes the fault review found:
 * forged tokens, a spoofed X-Forwarded-For on the API port, a mail worker and an API killed with
 * SIGKILL.
 */
describe('npm start: trusts only its front door and keeps serving through crashes', () => {
  let database: TestDatabase;
  let smtp: SmtpSink;
  let cluster: RunningProcess;
  let port: number;
  let apiPort: number;
  let gatewayPort: number;
  let base: string;

  before(async () => {
    database = await createTestDatabase();
    smtp = await startSmtpSink();
    [port, apiPort, gatewayPort] = [await freePort(), await freePort(), await freePortRange(1)];
    base = `http://127.0.0.1:${port}`;
    cluster = startProcess('scripts/start.ts', {
      DATABASE_URL: database.url,
      REDIS_PREFIX: uniquePrefix('supervised'),
      SMTP_URL: smtp.url,
      PORT: String(port),
      API_PORT: String(apiPort),
      WORKER_PORT: String(await freePort()),
      GATEWAY_COUNT: '1',
      GATEWAY_BASE_PORT: String(gatewayPort),
      FRONT_DOOR: 'node',
      ALLOWED_ORIGINS: base,
      LOG_LEVEL: 'warn',
    });
    await cluster.waitForLine('IM cluster is up', 90_000);
  });
  after(async () => {
    await cluster?.stop();
    await smtp?.close();
    await database?.drop();
  });

  const post = async (url: string, body: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, ...(await response.json()) };
  };
  const register = async (label: string) => {
    const tag = `${label}${randomBytes(3).toString('hex')}`;
    const account = { email: `${tag}@example.com`, username: tag, password: `pw-${tag}-long` };
    assert.equal((await post(`${base}/api/users/register`, account)).code, 0);
    return account;
  };
  /** Both login steps through the public port, the code read from the SMTP sink. */
  const logIn = async (account: { email: string; password: string }) => {
    const mailsBefore = smtp.mails.length;
    const step1 = await post(`${base}/api/users/login`, { email: account.email, password: account.password });
    assert.equal(step1.code, 0, step1.msg);
    const mail = await smtp.waitFor((m) => smtp.mails.indexOf(m) >= mailsBefore && JSON.stringify(m.to).includes(account.email), 60_000);
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')![1];
    const step2 = await post(`${base}/api/users/login`, { ...account, code });
    assert.equal(step2.code, 0, step2.msg);
    return step2.data.token as string;
  };

  it('refuses a token signed with the secret settings.yaml once printed', async () => {
    const forged = await new SignJWT({ user_id: 'deadbeef00', username: 'nobody' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('deadbeef00')
      .setIssuer('im-cluster')
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('dev-only-insecure-secret-change-me-0123456789'));
    const response = await fetch(`${base}/api/users`, { headers: { authorization: `bearer ${forged}` } });
    assert.equal(response.status, 401);
  });

  it('ignores X-Forwarded-For sent straight to the API port: a spoofed address does not escape the login limit', async () => {
    const codes = [];
    // rate_limit.login_per_ip is 30: the 31st attempt from one sender is refused, whatever it claims.
    for (let i = 0; i < 31; i++) {
      const answer = await postFrom('127.0.0.2', `http://127.0.0.1:${apiPort}/api/users/login`, {
        body: { email: `nobody${i}@example.com`, password: 'whatever-password' },
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      codes.push(answer.code);
    }
    assert.deepEqual(codes.slice(-2), [1003, 1007]);
  });

  it('kill -9 of the mail worker: logins go on, and the restarted worker sends the mail queued meanwhile', async () => {
    const account = await register('mailer');
    process.kill(pidOf('worker'), 'SIGKILL');
    await cluster.waitForLine('worker exited unexpectedly (SIGKILL); restarting it in 1 s');
    // Queued while the worker is away (or just back): the mail waits in Redis for it.
    const token = await logIn(account);
    await cluster.waitForLine('worker: restarted (pid');
    assert.equal((await fetch(`${base}/api/users`, { headers: { authorization: `bearer ${token}` } })).status, 200);
    assert.equal(cluster.child.exitCode, null, 'the cluster is still running');
  });

  it('kill -9 of the API: it is started again and logins work once it is ready', async () => {
    const account = await register('survivor');
    process.kill(pidOf('api'), 'SIGKILL');
    await cluster.waitForLine('api exited unexpectedly (SIGKILL); restarting it in 1 s');
    await cluster.waitForLine('api: restarted (pid', 60_000);
    await logIn(account);
    assert.equal(cluster.child.exitCode, null, 'the cluster is still running');
  });

  it('stops everything on SIGTERM with exit code 0', async () => {
    assert.equal(await cluster.stop(), 0);
  });

  /** The newest pid the start command printed for `service` (started or restarted). */
  function pidOf(service: string): number {
    const line = cluster.output.filter((l) => l.startsWith(`${service}: started (pid `) || l.startsWith(`${service}: restarted (pid `)).at(-1);
    const pid = Number(/\(pid (\d+)\)/.exec(line ?? '')?.[1]);
    if (!pid) throw new Error(`no start line for ${service}`);
    return pid;
  }
});

/** With the front door on an address of its own, what else listens where. */
describe('npm start with BIND_HOST set: only the front door listens there; the API and gateways on loopback', () => {
  let database: TestDatabase;
  let cluster: RunningProcess;
  const ports: number[] = [];

  before(async () => {
    database = await createTestDatabase();
    ports.push(await freePort(), await freePort(), await freePortRange(1), await freePort());
    const [port, apiPort, gatewayPort, workerPort] = ports;
    cluster = startProcess('scripts/start.ts', {
      DATABASE_URL: database.url,
      REDIS_PREFIX: uniquePrefix('bound'),
      EMAIL_VERIFICATION: 'false',
      BIND_HOST: '127.0.0.2',
      PORT: String(port),
      API_PORT: String(apiPort),
      WORKER_PORT: String(workerPort),
      GATEWAY_COUNT: '1',
      GATEWAY_BASE_PORT: String(gatewayPort),
      FRONT_DOOR: 'node',
      LOG_LEVEL: 'warn',
    });
    await cluster.waitForLine('IM cluster is up', 90_000);
  });
  after(async () => {
    await cluster?.stop();
    await database?.drop();
  });

  it('binds the front door to BIND_HOST, the API, the worker and the gateway to 127.0.0.1 only', async () => {
    const [port, apiPort, gatewayPort, workerPort] = ports as [number, number, number, number];
    assert.equal(await listening('127.0.0.2', port), true);
    assert.equal(await listening('127.0.0.1', apiPort), true);
    assert.equal(await listening('127.0.0.2', apiPort), false);
    assert.equal(await listening('127.0.0.1', workerPort), true);
    assert.equal(await listening('127.0.0.2', workerPort), false);
    assert.equal(await listening('127.0.0.1', gatewayPort), true);
    assert.equal(await listening('127.0.0.2', gatewayPort), false);
    assert.equal((await fetch(`http://127.0.0.2:${port}/readyz`)).status, 200, 'the front door reaches the API on loopback');
  });
});

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A JSON POST from a chosen local address (127.0.0.2 …): fetch cannot pick one. */
function postFrom(localAddress: string, url: string, options: { body: unknown; headers: Record<string, string> }): Promise<{ status: number; code: number }> {
  const text = JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    const req = request(url, { method: 'POST', localAddress, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(Buffer.concat(chunks).toString('utf8')).code }));
    });
    req.on('error', reject);
    req.end(text);
  });
}
