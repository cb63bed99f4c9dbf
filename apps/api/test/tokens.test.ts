import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT } from 'jose';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAndLogin } from './support/accounts.ts';

describe('tokens: only genuine, live tokens open the API', () => {
  let api: TestApi;
  let user: { user_id: string; user_name: string };
  let secret: Uint8Array;
  before(async () => {
    api = await startApi();
    ({ user } = await registerAndLogin(api, 'tok'));
    secret = new TextEncoder().encode(api.config.jwt.secret);
  });
  after(() => api.close());

  const claims = () => ({ user_id: user.user_id, username: user.user_name });
  const sign = (key: Uint8Array, build: (jwt: SignJWT) => SignJWT = (jwt) => jwt) =>
    build(
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.user_id)
        .setIssuer(api.config.jwt.issuer)
        .setJti(crypto.randomUUID())
        .setExpirationTime('1h'),
    ).sign(key);

  async function expect401(token: string | undefined, label: string, headers?: Record<string, string>) {
    const answer = await call(api.url, '/api/users', { token, headers });
    assert.deepEqual([answer.status, answer.code], [401, 1003], label);
  }

  it('a well-made token with the right secret works (control)', async () => {
    const answer = await call(api.url, '/api/users', { token: await sign(secret) });
    assert.equal(answer.code, 0);
  });

  it('missing or malformed tokens → 1003', async () => {
    await expect401(undefined, 'none');
    await expect401('garbage', 'garbage');
    await expect401('a.b.c', 'three junk parts');
    await expect401(undefined, 'empty bearer', { authorization: 'bearer ' });
    await expect401(undefined, 'basic auth', { authorization: 'Basic dXNlcjpwYXNz' });
  });

  it('a token signed with another secret → 1003', async () => {
    await expect401(await sign(new TextEncoder().encode('another-secret-of-at-least-32-characters!!')), 'forged');
  });

  it('alg:none → 1003', async () => {
    const unsigned = new UnsecuredJWT(claims())
      .setSubject(user.user_id)
      .setIssuer(api.config.jwt.issuer)
      .setJti(crypto.randomUUID())
      .setExpirationTime('1h')
      .encode();
    await expect401(unsigned, 'alg none');
  });

  it('an expired token → 1003', async () => {
    await expect401(await sign(secret, (jwt) => jwt.setExpirationTime(Math.floor(Date.now() / 1000) - 10)), 'expired');
  });

  it('a token from another issuer or without jti → 1003', async () => {
    await expect401(await sign(secret, (jwt) => jwt.setIssuer('someone-else')), 'issuer');
    const noJti = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.user_id)
      .setIssuer(api.config.jwt.issuer)
      .setExpirationTime('1h')
      .sign(secret);
    await expect401(noJti, 'no jti');
  });

  it('a token signed with HS512 under the same secret → 1003 (algorithm pinned)', async () => {
    const hs512 = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject(user.user_id)
      .setIssuer(api.config.jwt.issuer)
      .setJti(crypto.randomUUID())
      .setExpirationTime('1h')
      .sign(secret);
    await expect401(hs512, 'hs512');
  });

  it('logout of one token leaves the same user’s other tokens working', async () => {
    const first = await sign(secret);
    const second = await sign(secret);
    assert.equal((await call(api.url, '/api/users/logout', { method: 'POST', token: first })).code, 0);
    await expect401(first, 'revoked');
    assert.equal((await call(api.url, '/api/users', { token: second })).code, 0);
  });
});
