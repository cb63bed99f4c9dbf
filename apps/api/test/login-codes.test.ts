import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword } from '@im/auth';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { lastCodeFor, newAccount } from './support/accounts.ts';

async function registered(api: TestApi) {
  const account = newAccount('code');
  assert.equal((await call(api.url, '/api/users/register', { body: account })).code, 0);
  return account;
}

const login = (api: TestApi, body: Record<string, unknown>) => call(api.url, '/api/users/login', { body });

/** A 6-digit code that is not `code`. */
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('login codes', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('is 6 digits, single use', async () => {
    const account = await registered(api);
    await login(api, { email: account.email, password: account.password });
    const code = lastCodeFor(api, account.email);
    assert.match(code, /^\d{6}$/);
    assert.equal((await login(api, { ...account, code })).code, 0);
    const reused = await login(api, { email: account.email, password: account.password, code });
    assert.deepEqual([reused.status, reused.code], [401, 1003]);
  });

  it('dies after 5 wrong guesses: even the right code fails until a new one is sent', async () => {
    const account = await registered(api);
    const creds = { email: account.email, password: account.password };
    await login(api, creds);
    const code = lastCodeFor(api, account.email);
    for (let i = 0; i < 5; i++) {
      const wrong = await login(api, { ...creds, code: otherThan(code) });
      assert.deepEqual([wrong.status, wrong.code], [401, 1003], `guess ${i + 1}`);
    }
    const right = await login(api, { ...creds, code });
    assert.deepEqual([right.status, right.code], [429, 1007]);

    await login(api, creds);
    const fresh = lastCodeFor(api, account.email);
    assert.equal((await login(api, { ...creds, code: fresh })).code, 0);
  });

  it('parallel guesses cannot exceed the limit', async () => {
    const account = await registered(api);
    const creds = { email: account.email, password: account.password };
    await login(api, creds);
    const code = lastCodeFor(api, account.email);
    await Promise.all(Array.from({ length: 12 }, () => login(api, { ...creds, code: otherThan(code) })));
    assert.equal((await login(api, { ...creds, code })).code, 1007);
  });

  it('a resend replaces the old code', async () => {
    const account = await registered(api);
    const creds = { email: account.email, password: account.password };
    await login(api, creds);
    const first = lastCodeFor(api, account.email);
    await login(api, creds);
    const second = lastCodeFor(api, account.email);
    if (first !== second) assert.equal((await login(api, { ...creds, code: first })).code, 1003);
    assert.equal((await login(api, { ...creds, code: second })).code, 0);
  });

  it('the right code with a wrong password fails', async () => {
    const account = await registered(api);
    await login(api, { email: account.email, password: account.password });
    const code = lastCodeFor(api, account.email);
    const answer = await login(api, { email: account.email, password: 'wrong-password', code });
    assert.deepEqual([answer.status, answer.code], [401, 1003]);
  });

  it('wrong passwords in step 2 are refused as credentials and use up none of the code\'s guesses', async () => {
    const account = await registered(api);
    await login(api, { email: account.email, password: account.password });
    const code = lastCodeFor(api, account.email);
    for (let i = 0; i < 7; i++) {
      const wrong = await login(api, { email: account.email, password: `wrong-password-${i}`, code });
      assert.deepEqual([wrong.status, wrong.code, wrong.msg], [401, 1003, '邮箱或密码错误'], `attempt ${i + 1}`);
    }
    assert.equal((await login(api, { ...account, code })).code, 0);
  });

  it('in step 2 a wrong password, an unknown email and a wrong password with no code pending answer alike', async () => {
    const pending = await registered(api);
    await login(api, { email: pending.email, password: pending.password });
    const code = lastCodeFor(api, pending.email);
    const idle = await registered(api);
    const answers = [
      await login(api, { email: pending.email, password: 'not-the-password', code }),
      await login(api, { email: 'nobody-here@example.com', password: pending.password, code }),
      await login(api, { email: idle.email, password: 'not-the-password', code }),
    ];
    for (const answer of answers) {
      assert.deepEqual([answer.status, answer.code, answer.msg, answer.data], [401, 1003, '邮箱或密码错误', {}]);
    }
    // The pending code still works for its owner.
    assert.equal((await login(api, { ...pending, code })).code, 0);
  });

  it('step 2 with the right password but no code pending is a code error', async () => {
    const account = await registered(api);
    const answer = await login(api, { ...account, code: '123456' });
    assert.deepEqual([answer.status, answer.code, answer.msg], [401, 1003, '验证码错误或已过期']);
  });

  it('a password changed between the steps: only the new one completes step 2', async () => {
    const account = await registered(api);
    await login(api, { email: account.email, password: account.password });
    const code = lastCodeFor(api, account.email);
    const newPassword = `${account.password}-changed`;
    await api.db.user.update({ where: { email: account.email }, data: { passwordHash: await hashPassword(newPassword) } });
    const old = await login(api, { ...account, code });
    assert.deepEqual([old.status, old.code, old.msg], [401, 1003, '邮箱或密码错误']);
    assert.equal((await login(api, { email: account.email, password: newPassword, code })).code, 0);
  });

  it('unknown email and wrong password get the same status and body, and no mail', async () => {
    const account = await registered(api);
    const mailsBefore = api.mails.length;
    const unknown = await login(api, { email: 'nobody-here@example.com', password: account.password });
    const wrong = await login(api, { email: account.email, password: 'not-the-password' });
    assert.deepEqual([unknown.status, unknown.code, unknown.msg, unknown.data], [wrong.status, wrong.code, wrong.msg, wrong.data]);
    assert.equal(unknown.status, 401);
    assert.equal(api.mails.length, mailsBefore);
  });

  it('codes and passwords are stored only as keyed hashes', async () => {
    const account = await registered(api);
    await login(api, { email: account.email, password: account.password });
    const code = lastCodeFor(api, account.email);
    const keys = await api.redis.keys(`${api.config.redis.prefix}login-code:*`);
    for (const key of keys) {
      const stored = JSON.stringify(await api.redis.hgetall(key));
      assert.doesNotMatch(stored, new RegExp(code));
      assert.ok(!stored.includes(account.password), 'nor the password');
    }
  });
});

describe('login codes expire', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ overrides: { email: { code_ttl_seconds: 1 } } });
  });
  after(() => api.close());

  it('an expired code fails', async () => {
    const account = await registered(api);
    await login(api, { email: account.email, password: account.password });
    const code = lastCodeFor(api, account.email);
    await sleep(2_100);
    const answer = await login(api, { email: account.email, password: account.password, code });
    assert.deepEqual([answer.status, answer.code], [401, 1003]);
  });
});

describe('email verification off', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ overrides: { email: { verification: false } } });
  });
  after(() => api.close());

  it('step 1 returns the token directly and sends no mail', async () => {
    const account = await registered(api);
    const answer = await login(api, { email: account.email, password: account.password });
    assert.equal(answer.code, 0);
    assert.equal(answer.data.token_type, 'bearer');
    assert.equal((await call(api.url, '/api/users', { token: answer.data.token })).code, 0);
    assert.equal(api.mails.length, 0);
  });
});
