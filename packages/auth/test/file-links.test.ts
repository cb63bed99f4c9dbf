import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFileLinks } from '../src/file-links.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const downloadPath = (name: string) => `api/files/download?file=${encodeURIComponent(name)}`;
const links = createFileLinks({ secret: SECRET, ttlSeconds: 3600, downloadPath });

function parts(url: string) {
  const query = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  return { file: query.get('file')!, expires: query.get('expires')!, sig: query.get('sig')! };
}

describe('signed file links', () => {
  const now = new Date('2026-12-03T10:00:10.000Z');

  it('signs the download path and lives between the lifetime and one step more', () => {
    const url = links.url('1764756000000-0123456789abcdef.png', now);
    assert.match(url, /^api\/files\/download\?file=1764756000000-0123456789abcdef\.png&expires=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const { file, expires, sig } = parts(url);
    const lifetime = Number(expires) - now.getTime() / 1000;
    assert.ok(lifetime >= 3600 && lifetime < 3900, `lives ${lifetime} s`);
    assert.equal(links.check(file, expires, sig, now), 'valid');
    assert.equal(links.check(file, expires, sig, new Date(Number(expires) * 1000 - 1)), 'valid');
    assert.equal(links.check(file, expires, sig, new Date(Number(expires) * 1000)), 'expired');
  });

  it('gives the same URL for one file within a step, so browsers can cache it', () => {
    assert.equal(links.url('f.png', now), links.url('f.png', new Date(now.getTime() + 60_000)));
    assert.notEqual(links.url('f.png', now), links.url('g.png', now));
  });

  it('refuses links for another file, with a changed date, another key or a mangled signature', () => {
    const { file, expires, sig } = parts(links.url('f.png', now));
    const other = createFileLinks({ secret: `${SECRET}x`, ttlSeconds: 3600, downloadPath });
    const later = String(Number(expires) + 300);
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    assert.equal(links.check('g.png', expires, sig, now), 'invalid');
    assert.equal(links.check(file, later, sig, now), 'invalid');
    assert.equal(other.check(file, expires, sig, now), 'invalid');
    assert.equal(links.check(file, expires, flipped, now), 'invalid');
    for (const [e, s] of [['', sig], [expires, ''], ['12a', sig], [expires, `${sig}=`], [expires, sig.slice(1)], ['-1', sig]]) {
      assert.equal(links.check(file, e!, s!, now), 'invalid', `${e} / ${s}`);
    }
    // Expired links made by someone else are invalid, not "expired": only genuine links say so.
    assert.equal(other.check(file, '1', sig, now), 'invalid');
  });

  it('refuses bad options', () => {
    assert.throws(() => createFileLinks({ secret: 'short', ttlSeconds: 60, downloadPath }), /at least 32/);
    assert.throws(() => createFileLinks({ secret: SECRET, ttlSeconds: 0, downloadPath }), /positive integer/);
  });
});
