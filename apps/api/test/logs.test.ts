import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAndLogin } from './support/accounts.ts';

describe('structured logs without secrets', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('writes one JSON object per line and never a password, code or token', async () => {
    const { account, token } = await registerAndLogin(api, 'logged');
    const code = /\b(\d{6})\b/.exec(api.mails.at(-1)!.text)![1]!;
    await call(api.url, `/api/users?Authorization=${encodeURIComponent(`bearer ${token}`)}`, { token });
    await call(api.url, '/api/users/logout', { method: 'POST', token });
    await call(api.url, '/api/users/login', { body: { email: account.email, password: account.password, code: '000000' } });

    assert.ok(api.logLines.length >= 5, 'requests are logged');
    for (const line of api.logLines) {
      const entry = JSON.parse(line);
      assert.equal(typeof entry.level, 'string');
      assert.equal(typeof entry.time, 'string');
    }
    const all = api.logLines.join('\n');
    assert.ok(all.includes('"path":"/api/users/login"'));
    for (const secret of [account.password, token, token.split('.')[2]!, code]) {
      assert.ok(!all.includes(secret), `log contains a secret: ${secret.slice(0, 8)}…`);
    }
  });
});

describe('readiness follows the backing services', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('/readyz turns 503 / 1500 when Redis is unreachable, /healthz stays 200', async () => {
    // Point the app's Redis client at a closed port: what a Redis outage looks like to it.
    api.redis.disconnect();
    const ready = await call(api.url, '/readyz');
    assert.deepEqual([ready.status, ready.code, ready.data.redis, ready.data.mysql], [503, 1500, 'down', 'ok']);
    const health = await call(api.url, '/healthz');
    assert.equal(health.status, 200);
    await api.redis.connect();
    const back = await call(api.url, '/readyz');
    assert.equal(back.status, 200);
  });
});
