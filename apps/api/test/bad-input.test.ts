import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { newAccount, registerAndLogin } from './support/accounts.ts';

describe('bad input is refused with the right code and writes nothing', () => {
  let api: TestApi;
  let token: string;
  before(async () => {
    api = await startApi();
    ({ token } = await registerAndLogin(api, 'owner'));
  });
  after(() => api.close());

  async function expectRegisterRefused(body: unknown, status: number, code: number, headers?: Record<string, string>) {
    const before = await api.db.user.count();
    const answer = await call(api.url, '/api/users/register', { body, headers });
    assert.deepEqual([answer.status, answer.code], [status, code], `${JSON.stringify(body)} → ${answer.msg}`);
    assert.equal(typeof answer.msg, 'string');
    assert.equal(await api.db.user.count(), before, 'no row may be written');
    return answer;
  }

  it('malformed JSON → 1002', async () => {
    await expectRegisterRefused('{"email": "a@b.c", ', 400, 1002);
    await expectRegisterRefused('not json at all', 400, 1002);
  });

  it('a JSON body that is not an object → 1002', async () => {
    await expectRegisterRefused('[1,2,3]', 400, 1002);
    await expectRegisterRefused('"text"', 400, 1002);
  });

  it('wrong types → 1002 naming the field', async () => {
    const answer = await expectRegisterRefused({ ...newAccount(), password: 12345678 }, 400, 1002);
    assert.equal(answer.data.errors[0].field, 'password');
    await expectRegisterRefused({ ...newAccount(), email: ['x@y.z'] }, 400, 1002);
    await expectRegisterRefused({ ...newAccount(), username: { $ne: null } }, 400, 1002);
  });

  it('missing fields → 1002', async () => {
    const { email, password } = newAccount();
    await expectRegisterRefused({ email, password }, 400, 1002);
    await expectRegisterRefused({}, 400, 1002);
  });

  it('over-long and badly formed fields → 1002', async () => {
    await expectRegisterRefused({ ...newAccount(), username: 'x'.repeat(33) }, 400, 1002);
    await expectRegisterRefused({ ...newAccount(), password: 'p'.repeat(129) }, 400, 1002);
    await expectRegisterRefused({ ...newAccount(), password: 'short' }, 400, 1002);
    await expectRegisterRefused({ ...newAccount(), email: `${'a'.repeat(250)}@example.com` }, 400, 1002);
    await expectRegisterRefused({ ...newAccount(), email: 'not-an-email' }, 400, 1002);
    for (const username of ['../etc', 'a/b', 'a\\b', '.hidden', 'tab\there', 'nul\u0000', '']) {
      await expectRegisterRefused({ ...newAccount(), username }, 400, 1002);
    }
  });

  it('a body over the JSON limit → 413 / 1008', async () => {
    await expectRegisterRefused({ ...newAccount(), padding: 'x'.repeat(100_000) }, 413, 1008);
  });

  it('taken email or username → 409 / 1006, case-insensitively', async () => {
    const account = newAccount('taken');
    assert.equal((await call(api.url, '/api/users/register', { body: account })).code, 0);
    const sameEmail = await expectRegisterRefused({ ...newAccount(), email: account.email.toUpperCase() }, 409, 1006);
    assert.equal(sameEmail.data.field, 'email');
    const sameName = await expectRegisterRefused({ ...newAccount(), username: account.username }, 409, 1006);
    assert.equal(sameName.data.field, 'username');
  });

  it('parallel registrations of one email create exactly one user', async () => {
    const account = newAccount('race');
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call(api.url, '/api/users/register', { body: { ...account, username: `${account.username}${i}` } }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.code).sort(), [0, 1006, 1006, 1006, 1006]);
    assert.equal(await api.db.user.count({ where: { email: account.email } }), 1);
  });

  it('Chinese usernames work', async () => {
    const account = { ...newAccount(), username: '测试用户' + Math.random().toString(36).slice(2, 6) };
    const answer = await call(api.url, '/api/users/register', { body: account });
    assert.equal(answer.code, 0, answer.msg);
    assert.equal(answer.data.user_name, account.username);
  });

  it('`sort` outside the allow-list → 1002, never reaching SQL', async () => {
    for (const sort of [
      'username; DROP TABLE users',
      'password_hash asc',
      'username asc, email',
      "username' OR '1'='1",
      'email desc',
      'username sideways',
      '(select 1)',
    ]) {
      const answer = await call(api.url, `/api/users?sort=${encodeURIComponent(sort)}`, { token });
      assert.deepEqual([answer.status, answer.code], [400, 1002], sort);
    }
    assert.ok((await api.db.user.count()) > 0, 'users table still there');
    const allowed = await call(api.url, `/api/users?sort=${encodeURIComponent('CREATED_AT   Desc')}`, { token });
    assert.equal(allowed.code, 0);
  });

  it('limit and page outside their range → 1002', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'page=0', 'page=-1', 'limit=1.5']) {
      const answer = await call(api.url, `/api/users?${query}`, { token });
      assert.deepEqual([answer.status, answer.code], [400, 1002], query);
    }
  });

  it('login with a malformed code → 1002', async () => {
    const { account } = await registerAndLogin(api, 'fmt');
    for (const code of ['12345', '1234567', 'abcdef', 123456]) {
      const answer = await call(api.url, '/api/users/login', { body: { email: account.email, password: account.password, code } });
      assert.deepEqual([answer.status, answer.code], [400, 1002], String(code));
    }
  });

  it('never leaks internals in error messages', async () => {
    const answer = await call(api.url, '/api/users/register', { body: '{"email":' });
    assert.doesNotMatch(JSON.stringify(answer), /stack|at \w+ \(|SELECT|INSERT|prisma/i);
  });
});
