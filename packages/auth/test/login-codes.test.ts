import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createLoginCodes, type LoginCodes, type PasswordClaim } from '../src/login-codes.ts';

const SECRET = 'test-secret-test-secret-test-secret';

describe('login codes (Redis)', () => {
  let redis: Redis;
  let codes: LoginCodes;
  const prefix = `test-${randomUUID()}:`;
  let counter = 0;
  const newUser = () => `u${String(++counter).padStart(9, '0')}`;
  const claim: PasswordClaim = { password: 'the right password', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' };
  const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  before(async () => {
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    codes = createLoginCodes({ redis, prefix, secret: SECRET, maxAttempts: 5 });
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('the password step 1 confirmed lets step 2 through without argon2, once', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    assert.match(code, /^\d{6}$/);
    assert.equal(await codes.check(user, code, claim), 'ok');
    // Used up: nothing left to confirm the password with, and with argon2's word the code is gone.
    assert.equal(await codes.check(user, code, claim), 'password-unconfirmed');
    assert.equal(await codes.check(user, code, 'verified'), 'missing');
  });

  it('another password, or the same one for another argon2 hash, is unconfirmed and costs no guess', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    for (const other of [
      { ...claim, password: 'the wrong password' },
      { ...claim, password: `${claim.password} ` },
      { ...claim, passwordHash: `${claim.passwordHash}x` },
    ]) {
      for (let i = 0; i < 6; i++) assert.equal(await codes.check(user, code, other), 'password-unconfirmed');
    }
    assert.equal(await codes.check(user, code, claim), 'ok');
  });

  it('five wrong guesses kill the code, even for the right code and a verified password', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    for (let i = 0; i < 5; i++) assert.equal(await codes.check(user, otherCode(code), claim), 'wrong');
    assert.equal(await codes.check(user, code, claim), 'exhausted');
    assert.equal(await codes.check(user, code, 'verified'), 'exhausted');
  });

  it('parallel guesses cannot exceed the limit', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    const results = await Promise.all(Array.from({ length: 12 }, () => codes.check(user, otherCode(code), claim)));
    assert.equal(results.filter((r) => r === 'wrong').length, 5);
    assert.equal(results.filter((r) => r === 'exhausted').length, 7);
    assert.equal(await codes.check(user, code, claim), 'exhausted');
  });

  it('parallel right answers: exactly one wins', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    const results = await Promise.all(Array.from({ length: 8 }, () => codes.check(user, code, claim)));
    assert.equal(results.filter((r) => r === 'ok').length, 1);
  });

  it('a resend replaces the code and resets the guesses', async () => {
    const user = newUser();
    const first = await codes.issue(user, claim);
    for (let i = 0; i < 4; i++) await codes.check(user, otherCode(first), claim);
    const second = await codes.issue(user, claim);
    if (first !== second) assert.equal(await codes.check(user, first, claim), 'wrong');
    assert.equal(await codes.check(user, second, claim), 'ok');
  });

  it('a code record without a password digest (issued by an older server) needs argon2, then works', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    await redis.hdel(`${prefix}login-code:${user}`, 'pw');
    assert.equal(await codes.check(user, code, claim), 'password-unconfirmed');
    assert.equal(await codes.check(user, code, 'verified'), 'ok');
  });

  it('stores neither the code nor the password, nor an unkeyed hash of them', async () => {
    const user = newUser();
    const code = await codes.issue(user, claim);
    const record = await redis.hgetall(`${prefix}login-code:${user}`);
    assert.deepEqual(Object.keys(record).sort(), ['attempts', 'hash', 'pw']);
    const stored = JSON.stringify(record);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    for (const secret of [code, claim.password, sha(claim.password), sha(`${user}:${code}`), sha(`${user}\0${claim.passwordHash}\0${claim.password}`)]) {
      assert.ok(!stored.includes(secret), 'a secret or its plain hash is stored');
    }
    // Another server secret cannot confirm the password from the same record.
    const elsewhere = createLoginCodes({ redis, prefix, secret: `${SECRET}-other` });
    assert.equal(await elsewhere.check(user, code, claim), 'password-unconfirmed');
    assert.equal(await redis.ttl(`${prefix}login-code:${user}`) > 0, true, 'the record expires');
  });
});
