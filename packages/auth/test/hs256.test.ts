import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT, jwtVerify } from 'jose';
import { verifyHs256 } from '../src/hs256.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const KEY = Buffer.from(SECRET);
const ISSUER = 'im-test';
const NOW = 1_900_000_000;

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token made by hand, for shapes jose refuses to sign; the signature is a genuine HS256 one. */
function craft(header: unknown, payload: unknown, secret = SECRET): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

const claims = { sub: 'u1', jti: 'j1', username: 'alice', iss: ISSUER, exp: NOW + 60 };
const sign = (payload: Record<string, unknown>, alg = 'HS256', secret = SECRET) =>
  new SignJWT(payload).setProtectedHeader({ alg }).sign(Buffer.from(secret));

/** What jose's jwtVerify, as the token service used to call it, says about a token. */
async function joseAccepts(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, KEY, { algorithms: ['HS256'], issuer: ISSUER, requiredClaims: ['exp', 'iss'], currentDate: new Date(NOW * 1000) });
    return true;
  } catch {
    return false;
  }
}

describe('HS256 verification on node:crypto agrees with jose', () => {
  const valid = () => sign(claims);
  // The fourth field, when present, is jose's verdict where this check is deliberately stricter.
  const cases: Array<[label: string, token: () => Promise<string> | string, accepted: boolean, joseAccepted?: boolean]> = [
    ['a genuine token', valid, true],
    ['with iat and a past nbf', () => sign({ ...claims, iat: NOW - 5, nbf: NOW - 5 }), true],
    ['another secret', () => sign(claims, 'HS256', 'another-secret-of-at-least-32-characters'), false],
    ['alg none', () => new UnsecuredJWT(claims).encode(), false],
    ['HS512 under the same secret', () => sign(claims, 'HS512'), false],
    ['HS384 under the same secret', () => sign(claims, 'HS384'), false],
    ['expired', () => sign({ ...claims, exp: NOW - 10 }), false],
    ['expiring this very second', () => sign({ ...claims, exp: NOW }), false],
    ['not valid yet (nbf)', () => sign({ ...claims, nbf: NOW + 30 }), false],
    ['another issuer', () => sign({ ...claims, iss: 'someone-else' }), false],
    ['no issuer', () => sign({ ...claims, iss: undefined }), false],
    ['no exp', () => sign({ ...claims, exp: undefined }), false],
    ['exp as a string', () => craft({ alg: 'HS256' }, { ...claims, exp: String(NOW + 60) }), false],
    ['iat as a string', () => craft({ alg: 'HS256' }, { ...claims, iat: 'yesterday' }), false],
    ['a critical header extension', () => craft({ alg: 'HS256', crit: ['x-thing'], 'x-thing': 1 }, claims), false],
    ['an unencoded payload (b64: false)', () => craft({ alg: 'HS256', b64: false, crit: ['b64'] }, claims), false],
    ['a payload that is an array', () => craft({ alg: 'HS256' }, [claims]), false],
    ['a payload that is not JSON', () => craft({ alg: 'HS256' }, 'not json'), false],
    ['a header that is not JSON', () => craft('not json', claims), false],
    [
      'a payload swapped under a genuine signature',
      async () => {
        const [header, , signature] = (await valid()).split('.');
        return `${header}.${b64({ ...claims, sub: 'admin' })}.${signature}`;
      },
      false,
    ],
    ['a signature with junk appended', async () => `${await valid()}!!`, false],
    // jose's decoder tolerates base64 padding; no JWT library writes it, so it is refused here.
    ['a signature with padding', async () => `${await valid()}=`, false, true],
    ['no signature', async () => (await valid()).split('.').slice(0, 2).join('.') + '.', false],
    ['four parts', async () => `${await valid()}.x`, false],
    ['garbage', () => 'garbage', false],
  ];

  for (const [label, make, accepted, joseAccepted = accepted] of cases) {
    it(`${label}: ${accepted ? 'accepted' : 'refused'}`, async () => {
      const token = await make();
      assert.equal(await joseAccepts(token), joseAccepted, "jose's verdict");
      assert.equal(verifyHs256(token, KEY, ISSUER, NOW) !== undefined, accepted);
    });
  }

  it('returns the payload of a genuine token', async () => {
    assert.deepEqual(verifyHs256(await valid(), KEY, ISSUER, NOW), claims);
  });
});
