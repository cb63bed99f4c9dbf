import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { registerAndLogin } from './support/accounts.ts';

/**
 * A web app on another origin (a CDN, Vite's dev server) calls the API the way Chromium does it:
 * a preflight for anything but a simple request, then the call; it may read the answer only
 * when the server names its origin. Allowed origins are `gateway.allowed_origins`.
 */
describe('CORS for the configured browser origins', () => {
  let api: TestApi;
  const app = 'http://app.example.test';

  before(async () => {
    api = await startApi({ overrides: { gateway: { allowed_origins: [app, 'http://127.0.0.1:5173'] } } });
  });
  after(() => api.close());

  const preflight = (origin: string, method = 'POST', headers = 'authorization,content-type') =>
    fetch(`${api.url}/api/users/login`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
    });

  it('answers a preflight from an allowed origin with what the app needs', async () => {
    const response = await preflight(app);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), app);
    assert.match(response.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(response.headers.get('access-control-allow-methods')!, /DELETE/);
    assert.match(response.headers.get('access-control-allow-headers')!.toLowerCase(), /authorization/);
    assert.match(response.headers.get('access-control-allow-headers')!.toLowerCase(), /content-type/);
    assert.equal(response.headers.get('access-control-allow-credentials'), null, 'tokens are headers, not cookies');
    assert.equal(response.headers.get('access-control-max-age'), '600');
  });

  it('gives another origin no CORS headers, so its page cannot read the answer', async () => {
    const refused = await preflight('http://evil.example.test');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    const call = await fetch(`${api.url}/healthz`, { headers: { origin: 'http://evil.example.test' } });
    assert.equal(call.headers.get('access-control-allow-origin'), null);
    assert.match(call.headers.get('vary') ?? '', /origin/i, 'caches keep answers per origin');
  });

  it('names the origin on real answers, errors included, and exposes the download headers', async () => {
    const { token } = await registerAndLogin(api, 'cors');
    const ok = await fetch(`${api.url}/api/users?limit=1`, { headers: { origin: app, authorization: `bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), app);
    assert.match(ok.headers.get('access-control-expose-headers') ?? '', /Content-Disposition/);

    const denied = await fetch(`${api.url}/api/users`, { headers: { origin: app } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), app, 'the page can read why it failed');
    assert.equal((await denied.json()).code, 1003);

    const unknown = await fetch(`${api.url}/api/nope`, { headers: { origin: app } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('access-control-allow-origin'), app);
  });

  it('allows any origin with "*", still without credentials', async () => {
    const open = await startApi({ overrides: { gateway: { allowed_origins: ['*'] } } });
    try {
      const response = await fetch(`${open.url}/healthz`, { headers: { origin: 'http://anywhere.test' } });
      assert.equal(response.headers.get('access-control-allow-origin'), 'http://anywhere.test');
      assert.equal(response.headers.get('access-control-allow-credentials'), null);
    } finally {
      await open.close();
    }
  });
});
