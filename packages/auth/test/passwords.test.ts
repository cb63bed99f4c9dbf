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
