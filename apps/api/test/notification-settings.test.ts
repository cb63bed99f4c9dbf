import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type TestApi } from './support/start-api.ts';
import { registerAndLogin } from './support/accounts.ts';
import { call } from './support/http.ts';

describe('PUT/GET /api/users/notifications', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ overrides: { notifications: { digest: { interval_seconds: 900, collect_seconds: 60, max_messages: 50 } } } });
  });
  after(async () => {
    await api?.close();
  });

  it('opts in to the digest, keeps what a change leaves out, and refuses bad values', async () => {
    const user = await registerAndLogin(api, 'settings');
    const auth = { token: user.token };
    assert.deepEqual((await call(api.url, '/api/users/notifications', { ...auth, method: 'GET' })).data, {
      digest: false,
      language: 'zh',
      digest_interval_seconds: 900,
    });
    const on = await call(api.url, '/api/users/notifications', { ...auth, method: 'PUT', body: { digest: true } });
    assert.deepEqual(on.data, { digest: true, language: 'zh', digest_interval_seconds: 900 });
    const english = await call(api.url, '/api/users/notifications', { ...auth, method: 'PUT', body: { language: 'en' } });
    assert.deepEqual(english.data, { digest: true, language: 'en', digest_interval_seconds: 900 });
    const bad = await call(api.url, '/api/users/notifications', { ...auth, method: 'PUT', body: { digest: 'yes', extra: 1 } });
    assert.equal(bad.code, 1002);
    assert.deepEqual((await call(api.url, '/api/users/notifications', { ...auth, method: 'GET' })).data.digest, true, 'a refused change changes nothing');
    const other = await registerAndLogin(api, 'settings2');
    assert.equal((await call(api.url, '/api/users/notifications', { token: other.token, method: 'GET' })).data.digest, false, 'settings are per user');
  });
});
