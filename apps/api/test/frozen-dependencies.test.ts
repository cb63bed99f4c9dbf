import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call, type Answer } from './support/http.ts';
import { newAccount, registerAndLogin } from './support/accounts.ts';
import { startRedisServer, type TestRedisServer } from '../../../test/support/redis-server.ts';
import { startMariaDbServer, type TestMariaDbServer } from '../../../test/support/mariadb-server.ts';

/**
 * Redis or MariaDB stops answering without closing its connections (SIGSTOP: a stalled VM or
 * disk). Every request must still be answered, while the dependency is frozen: 1500 where it is
 * needed, normally where it is not, and /readyz 503 naming it. Private servers, so the shared
 * ones keep serving the other test files. A hang fails each test at its own timeout.
 */
describe('the API with a frozen dependency', () => {
  let redis: TestRedisServer;
  let mariadb: TestMariaDbServer;
  let api: TestApi;
  let signedIn: Awaited<ReturnType<typeof registerAndLogin>>;

  before(async () => {
    [redis, mariadb] = await Promise.all([startRedisServer(), startMariaDbServer()]);
    api = await startApi({ databaseUrl: mariadb.databaseUrl('im_frozen'), overrides: { redis: { url: redis.url } } });
    signedIn = await registerAndLogin(api, 'frozen');
  });
  after(async () => {
    await redis?.resume();
    await mariadb?.thaw();
    await api?.close();
    await Promise.all([redis?.stop(), mariadb?.stop()]);
  });

  const loginStep1 = () => call(api.url, '/api/users/login', { body: { email: signedIn.account.email, password: signedIn.account.password } });
  const listUsers = (token = signedIn.token) => call(api.url, '/api/users', { token });
  const groupHistory = () => call(api.url, '/api/chat_groupList?limit=10', { token: signedIn.token });
  const readiness = () => call(api.url, '/readyz');
  const unavailable = (answer: Answer) => [answer.status, answer.code];

  it('Redis frozen: login answers 1500, signed-in reads keep working, /readyz says redis is down; a logout still revokes', { timeout: 60_000 }, async () => {
    const other = await registerAndLogin(api, 'other');
    await redis.pause();
    let answers;
    try {
      answers = {
        login: await loginStep1(),
        register: await call(api.url, '/api/users/register', { body: newAccount('during') }),
        users: await listUsers(),
        history: await groupHistory(),
        ready: await readiness(),
        logout: await call(api.url, '/api/users/logout', { method: 'POST', token: other.token }),
      };
    } finally {
      await redis.resume();
    }
    assert.deepEqual(unavailable(answers.login), [503, 1500]);
    assert.deepEqual(unavailable(answers.register), [503, 1500]);
    assert.deepEqual([answers.users.code, answers.history.code], [0, 0], 'token checks fall back to the MySQL ledger');
    assert.deepEqual([answers.ready.status, answers.ready.data], [503, { mysql: 'ok', redis: 'down' }]);
    assert.equal(answers.logout.code, 0);

    assert.equal((await loginStep1()).code, 0);
    assert.equal((await listUsers(other.token)).status, 401, 'the logout made while Redis was frozen holds');
    assert.equal((await readiness()).status, 200);
  });

  it('MariaDB frozen: what needs MySQL answers 1500 and /readyz says mysql is down; all of it works after it thaws', { timeout: 60_000 }, async () => {
    await mariadb.freeze();
    let answers;
    try {
      answers = { login: await loginStep1(), users: await listUsers(), history: await groupHistory(), ready: await readiness() };
    } finally {
      await mariadb.thaw();
    }
    assert.deepEqual(unavailable(answers.login), [503, 1500]);
    assert.deepEqual(unavailable(answers.users), [503, 1500]);
    assert.deepEqual(unavailable(answers.history), [503, 1500]);
    assert.deepEqual([answers.ready.status, answers.ready.data], [503, { mysql: 'down', redis: 'ok' }]);

    assert.equal((await loginStep1()).code, 0);
    assert.equal((await listUsers()).code, 0);
    assert.equal((await groupHistory()).code, 0);
    assert.equal((await readiness()).status, 200);
  });
});
