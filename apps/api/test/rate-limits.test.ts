import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { lastCodeFor, newAccount } from './support/accounts.ts';

describe('throttling shared by every API replica', () => {
  let first: TestApi;
  let second: TestApi;
  before(async () => {
    first = await startApi({
      overrides: { rate_limit: { login_per_ip: 6, login_per_account: 3, register_per_ip: 4 } },
    });
    // A second replica of the same deployment: same database, same Redis prefix, same limits.
    second = await startApi({ shareWith: first, overrides: { rate_limit: { login_per_ip: 6, login_per_account: 3, register_per_ip: 4 } } });
  });
  after(async () => {
    await second.close();
    await first.close();
  });

  // The tests' requests come from 127.0.0.1, a trusted proxy address by default (system.trusted_proxies).
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('limits failed logins per account across replicas, but not the right password', async () => {
    const account = newAccount('victim');
    assert.equal((await call(first.url, '/api/users/register', { body: account, headers: from('10.0.0.1') })).code, 0);
    const wrong = { email: account.email, password: 'wrong-password' };
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const api = i % 2 === 0 ? first : second;
      answers.push((await call(api.url, '/api/users/login', { body: wrong, headers: from(`10.0.1.${i}`) })).code);
    }
    assert.deepEqual(answers, [1003, 1003, 1003, 1007]);
    const locked = await call(second.url, '/api/users/login', {
      body: { email: account.email, password: account.password },
      headers: from('10.0.2.1'),
    });
    assert.deepEqual([locked.status, locked.code], [429, 1007]);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
  });

  it('limits login attempts per IP across replicas', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) {
      const api = i % 2 === 0 ? first : second;
      const body = { email: `nobody${i}@example.com`, password: 'whatever-password' };
      codes.push((await call(api.url, '/api/users/login', { body, headers: from('10.9.9.9') })).code);
    }
    assert.deepEqual(codes, [1003, 1003, 1003, 1003, 1003, 1003, 1007]);
    // Another address is not affected.
    const other = await call(first.url, '/api/users/login', {
      body: { email: 'nobody@example.com', password: 'whatever-password' },
      headers: from('10.9.9.10'),
    });
    assert.equal(other.code, 1003);
  });

  it('limits registrations per IP, writing no row once refused', async () => {
    const results = [];
    for (let i = 0; i < 5; i++) {
      const api = i % 2 === 0 ? first : second;
      results.push((await call(api.url, '/api/users/register', { body: newAccount('reg'), headers: from('10.7.7.7') })).code);
    }
    assert.deepEqual(results, [0, 0, 0, 0, 1007]);
  });

  it('a successful login is still possible for an account nobody attacked', async () => {
    const account = newAccount('calm');
    await call(first.url, '/api/users/register', { body: account, headers: from('10.3.3.3') });
    await call(first.url, '/api/users/login', { body: { email: account.email, password: account.password }, headers: from('10.3.3.4') });
    const code = lastCodeFor(first, account.email);
    const done = await call(second.url, '/api/users/login', { body: { ...account, code }, headers: from('10.3.3.4') });
    assert.equal(done.code, 0);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy: a spoofed header cannot dodge the limit', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) {
      const api = i % 2 === 0 ? first : second;
      // From 127.0.0.2, which is not in trusted_proxies, with a new made-up address each time.
      const body = { email: `spoof${i}@example.com`, password: 'whatever-password' };
      codes.push((await postFrom('127.0.0.2', `${api.url}/api/users/login`, body, { 'x-forwarded-for': `198.51.100.${i}` })).code);
    }
    assert.deepEqual(codes, [1003, 1003, 1003, 1003, 1003, 1003, 1007]);
  });
});

/** A JSON POST from a chosen local address (127.0.0.2 …): fetch cannot pick one. */
function postFrom(localAddress: string, url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; code: number }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(Buffer.concat(chunks).toString('utf8')).code }));
    });
    req.on('error', reject);
    req.end(text);
  });
}
