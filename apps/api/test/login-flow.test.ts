import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { lastCodeFor, newAccount, registerAndLogin } from './support/accounts.ts';

describe('register, two-step login, list, logout', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('walks the whole account life cycle', async () => {
    const account = newAccount('alice');
    const registered = await call(api.url, '/api/users/register', { body: account });
    assert.equal(registered.status, 200);
    assert.equal(registered.code, 0);
    assert.match(registered.data.user_id, /^[0-9a-f]{10}$/);
    assert.equal(registered.data.user_name, account.username);
    assert.equal(registered.data.avatar, `uploads/avatar/${registered.data.user_id}.png`);
    assert.equal(registered.data.password_hash, undefined);

    const step1 = await call(api.url, '/api/users/login', { body: { email: account.email, password: account.password } });
    assert.deepEqual([step1.status, step1.code, step1.msg, step1.data], [200, 0, '验证码已发送', {}]);
    const code = lastCodeFor(api, account.email);

    const step2 = await call(api.url, '/api/users/login', {
      body: { email: account.email, password: account.password, code },
    });
    assert.equal(step2.code, 0, step2.msg);
    assert.equal(step2.data.token_type, 'bearer');
    assert.ok(Date.parse(step2.data.expires_at) > Date.now());
    assert.equal(step2.data.user.user_id, registered.data.user_id);
    const token = step2.data.token as string;

    const list = await call(api.url, '/api/users?limit=10&page=1&sort=username%20asc', { token });
    assert.equal(list.code, 0);
    assert.equal(list.data.count, 1);
    assert.deepEqual(Object.keys(list.data.list[0]).sort(), [
      'avatar', 'created_at', 'email', 'updated_at', 'user_id', 'user_name',
    ]);

    const avatar = await fetch(`${api.url}/${registered.data.avatar}`);
    assert.equal(avatar.status, 200);
    assert.equal(avatar.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await avatar.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    const logout = await call(api.url, '/api/users/logout', { method: 'POST', token });
    assert.deepEqual([logout.status, logout.code, logout.msg], [200, 0, '注销成功']);

    const after = await call(api.url, '/api/users', { token });
    assert.deepEqual([after.status, after.code], [401, 1003]);
    const again = await call(api.url, '/api/users/logout', { method: 'POST', token });
    assert.deepEqual([again.status, again.code], [401, 1003]);
  });

  it('accepts the token in a `token` header as the original did', async () => {
    const { token } = await registerAndLogin(api, 'hdr');
    const viaHeader = await call(api.url, '/api/users', { headers: { token } });
    assert.equal(viaHeader.code, 0);
    const viaBearerInToken = await call(api.url, '/api/users', { headers: { token: `Bearer ${token}` } });
    assert.equal(viaBearerInToken.code, 0);
  });

  it('counts all users in `count` while the page holds `limit`', async () => {
    const { token } = await registerAndLogin(api, 'pager');
    await registerAndLogin(api, 'pager');
    const total = await api.db.user.count();
    const page = await call(api.url, '/api/users?limit=1&page=2&sort=created_at%20desc', { token });
    assert.equal(page.code, 0);
    assert.equal(page.data.count, total);
    assert.equal(page.data.list.length, 1);
    const names = (await call(api.url, `/api/users?limit=100&sort=username%20desc`, { token })).data.list.map(
      (u: { user_name: string }) => u.user_name,
    );
    assert.deepEqual(names, [...names].sort((a: string, b: string) => b.localeCompare(a, 'en', { sensitivity: 'base' })));
  });

  it('keeps two users logging in at the same moment apart', async () => {
    const accounts = [newAccount('par'), newAccount('par')];
    for (const account of accounts) assert.equal((await call(api.url, '/api/users/register', { body: account })).code, 0);
    await Promise.all(
      accounts.map((a) => call(api.url, '/api/users/login', { body: { email: a.email, password: a.password } })),
    );
    const codes = accounts.map((a) => lastCodeFor(api, a.email));
    // Each code works only for its own account.
    const crossed = await call(api.url, '/api/users/login', {
      body: { email: accounts[0]!.email, password: accounts[0]!.password, code: codes[1] },
    });
    if (codes[0] !== codes[1]) assert.equal(crossed.code, 1003);
    const results = await Promise.all(
      accounts.map((a, i) => call(api.url, '/api/users/login', { body: { email: a.email, password: a.password, code: codes[i] } })),
    );
    assert.deepEqual(results.map((r) => r.code), [0, 0]);
    assert.deepEqual(
      results.map((r) => r.data.user.user_name),
      accounts.map((a) => a.username),
    );
  });

  it('answers health and readiness', async () => {
    const health = await call(api.url, '/healthz');
    assert.deepEqual([health.status, health.code], [200, 0]);
    const ready = await call(api.url, '/readyz');
    assert.deepEqual([ready.status, ready.code, ready.data], [200, 0, { mysql: 'ok', redis: 'ok' }]);
  });

  it('answers unknown paths with the envelope', async () => {
    const missing = await call(api.url, '/api/nope');
    assert.deepEqual([missing.status, missing.code], [404, 1005]);
  });
});
