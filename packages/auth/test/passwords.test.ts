import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../src/passwords.ts';

// Written by the `argon2` package (0.45) this server used before: stored hashes must keep working.
const OLD_HASH = '$argon2id$v=19$m=19456,p=1,t=2$p1ycO2yQopJjOJ4LG6fa1A$ruUwuvN2dZ8miUdqVFTmGD9yyHkoikmcm2eTGJW1fsE';

describe('passwords', () => {
  it('hashes with argon2id at 19 MiB, t=2, p=1 and a fresh salt each time', async () => {
    const first = await hashPassword('a long password');
    const second = await hashPassword('a long password');
    assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(first, second);
    assert.equal(await verifyPassword(first, 'a long password'), true);
    assert.equal(await verifyPassword(first, 'a long passworD'), false);
  });

  it('verifies hashes stored by the previous argon2 binding', async () => {
    assert.equal(await verifyPassword(OLD_HASH, 'an old password from before'), true);
    assert.equal(await verifyPassword(OLD_HASH, 'an old password from befor'), false);
  });

  it('a malformed hash or the dummy check is a plain false', async () => {
    assert.equal(await verifyPassword('not a hash', 'x'), false);
    assert.equal(await verifyPassword('', 'x'), false);
    assert.equal(await verifyAgainstDummy('anything'), false);
  });

  it('a burst of checks leaves the thread pool room for short jobs such as signing a token', async () => {
    const phc = await hashPassword('burst');
    const key = await webcrypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const order: string[] = [];
    const checks = Array.from({ length: 8 }, () => verifyPassword(phc, 'burst').then(() => order.push('argon2')));
    // A WebCrypto HMAC runs on libuv's pool too; it must not queue behind eight 19 MiB hashes.
    const signed = webcrypto.subtle.sign('HMAC', key, new Uint8Array(300)).then(() => order.push('sign'));
    await Promise.all([...checks, signed]);
    assert.equal(order[0], 'sign', `finished in this order: ${order.join(', ')}`);
  });

  it('checks run on the thread pool: the event loop keeps turning while eight run', async () => {
    const phc = await hashPassword('parallel');
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const results = await Promise.all(Array.from({ length: 8 }, () => verifyPassword(phc, 'parallel')));
    clearInterval(timer);
    assert.deepEqual(results, Array(8).fill(true));
    assert.ok(ticks > 0, 'the event loop kept running during the checks');
  });
});
