import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { newAccount, registerAndLogin } from './support/accounts.ts';

/** The value of one sample of the Prometheus text at `/metrics`, or undefined when absent. */
async function sample(api: TestApi, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const response = await fetch(`${api.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2]!.split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('API metrics at /metrics', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ overrides: { rate_limit: { register_per_ip: 2 } } });
  });
  after(() => api.close());

  it('counts and times requests by route pattern and status, never by raw path', async () => {
    const { token } = await registerAndLogin(api, 'metered');
    await call(api.url, '/api/users?limit=5', { token });
    await call(api.url, '/api/users?limit=500', { token });
    await call(api.url, '/api/no/such/path/12345');
    const users = { method: 'GET', route: '/api/users' };
    assert.equal(await sample(api, 'im_api_requests_total', { ...users, status: '200' }), 1);
    assert.equal(await sample(api, 'im_api_requests_total', { ...users, status: '400' }), 1);
    assert.equal(await sample(api, 'im_api_request_duration_seconds_count', { ...users, status: '200' }), 1);
    assert.equal(await sample(api, 'im_api_requests_total', { method: 'POST', route: '/api/users/login', status: '200' }), 2);
    assert.equal(await sample(api, 'im_api_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1);
    const text = await (await fetch(`${api.url}/metrics`)).text();
    assert.ok(!text.includes('12345'), 'an unmatched path never becomes a label');
    assert.match(text, /^process_cpu_seconds_total /m, 'process metrics too');
  });

  it('counts requests a sign-in limit refuses, by limit', async () => {
    // register_per_ip is 2 and the first test registered once: the second passes, the third is refused.
    assert.equal((await call(api.url, '/api/users/register', { body: newAccount('limited') })).code, 0);
    const refused = await call(api.url, '/api/users/register', { body: newAccount('limited') });
    assert.equal(refused.status, 429);
    assert.equal(await sample(api, 'im_api_rate_limited_total', { limit: 'register-ip' }), 1);
  });
});

describe('request ids', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  const linesWith = (id: string) => api.logLines.map((line) => JSON.parse(line)).filter((entry) => entry.request_id === id);

  it("takes the caller's X-Request-Id, echoes it and puts it on every log line of the request", async () => {
    const id = 'edge-7f3a9c-001';
    const account = newAccount('traced');
    const answer = await call(api.url, '/api/users/register', { body: account, headers: { 'x-request-id': id } });
    assert.equal(answer.code, 0);
    assert.equal(answer.headers.get('x-request-id'), id);
    const lines = linesWith(id);
    // The handler's own line and the request line, both with the id.
    assert.deepEqual(lines.map((entry) => entry.msg).sort(), ['request', 'user registered']);
  });

  it('makes one when there is none, and on error answers too', async () => {
    const answer = await call(api.url, '/api/users/login', { body: '{not json' });
    assert.equal(answer.status, 400);
    const id = answer.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(linesWith(id).length, 1);
  });

  it('replaces an id that could forge or flood log lines', async () => {
    for (const bad of ['two words', 'x'.repeat(129), 'line\\nbreak', '{"json":1}']) {
      const answer = await call(api.url, '/healthz', { headers: { 'x-request-id': bad } });
      const id = answer.headers.get('x-request-id') ?? '';
      assert.notEqual(id, bad);
      assert.match(id, /^[0-9a-f-]{36}$/);
    }
  });

  it('keeps concurrent requests apart', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `parallel-${i}`);
    await Promise.all(ids.map((id) => call(api.url, '/api/users/register', { body: newAccount('para'), headers: { 'x-request-id': id } })));
    for (const id of ids) {
      const lines = linesWith(id);
      assert.deepEqual(lines.map((entry) => entry.msg).sort(), ['request', 'user registered'], id);
      const registered = lines.find((entry) => entry.msg === 'user registered');
      const request = lines.find((entry) => entry.msg === 'request');
      assert.equal(request.path, '/api/users/register');
      assert.ok(registered.user_id);
    }
  });
});
