import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export type CodeCheck =
  /** Right code: it is now used up. */
  | 'ok'
  /** Wrong code; guesses remain. */
  | 'wrong'
  /** Too many wrong guesses: dead until a new code is sent, even the right one fails. */
  | 'exhausted'
  /** No code was sent, or it expired. */
  | 'missing'
  /**
   * The password is not the one confirmed when the pending code was issued, or no code is
   * pending. Nothing was counted: check the password against its argon2 hash, then call `check`
   * again with `'verified'` (or refuse the login).
   */
  | 'password-unconfirmed';

/** A password as a login request carries it, with the argon2 hash of the account it claims. */
export interface PasswordClaim {
  password: string;
  /** The account's stored argon2 PHC string. */
  passwordHash: string;
}

/**
 * One-time login codes: 6 digits, stored only as an HMAC, single use, limited guesses.
 *
 * Step 1 of the login has just verified the password with argon2 when it issues a code, so the
 * code's record also keeps a keyed digest of that password (HMAC of user id, argon2 hash and
 * password). Step 2 carries the password again; when it matches that digest, argon2 does not run
 * a second time. Anything else (another password, no code pending) is `password-unconfirmed`,
 * and the caller falls back to argon2, so a wrong password costs the same time as before.
 */
export interface LoginCodes {
  /**
   * Makes a new code for the user, replacing any earlier one. Returns the plain code to mail.
   * `confirmed` must be a password argon2 has just accepted for this user.
   */
  issue(userId: string, confirmed: PasswordClaim): Promise<string>;
  /**
   * Step 2: the code, and the password either as the request carries it (compared with the
   * digest kept at issue) or `'verified'` once argon2 has accepted it. A guess is counted only
   * once the password is confirmed.
   */
  check(userId: string, code: string, password: PasswordClaim | 'verified'): Promise<CodeCheck>;
}

export interface LoginCodeOptions {
  redis: Redis | Cluster;
  prefix: string;
  /**
   * Key for the HMACs that store codes and confirmed passwords; a leaked Redis dump then reveals
   * neither a usable code nor anything to test passwords against without this key.
   */
  secret: string;
  /** @default 600 */
  ttlSeconds?: number;
  /** @default 5 */
  maxAttempts?: number;
}

// Counts a guess against the record that was read (ARGV[1] is its stored code digest, not the
// guess), so a code replaced or used up in between is 'missing'; deletes the code when the guess
// matched, so it can be used once. The guess itself was compared in constant time in Node.
const CONSUME_SCRIPT = `
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return 'missing' end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[3]) then return 'exhausted' end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
return 'wrong'
`;

export function createLoginCodes(options: LoginCodeOptions): LoginCodes {
  const { redis, prefix, secret, ttlSeconds = 600, maxAttempts = 5 } = options;
  const key = (userId: string) => `${prefix}login-code:${userId}`;
  const codeDigest = (userId: string, code: string) => createHmac('sha256', secret).update(`${userId}:${code}`).digest('hex');
  // A key of its own, so a code digest and a password digest can never stand in for each other.
  const passwordKey = createHmac('sha256', secret).update('login-password').digest();
  const passwordDigest = (userId: string, { password, passwordHash }: PasswordClaim) =>
    createHmac('sha256', passwordKey).update(`${userId}\0${passwordHash}\0`).update(password, 'utf8').digest('hex');

  return {
    async issue(userId, confirmed) {
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await redis
        .multi()
        .del(key(userId))
        .hset(key(userId), 'hash', codeDigest(userId, code), 'pw', passwordDigest(userId, confirmed), 'attempts', 0)
        .expire(key(userId), ttlSeconds)
        .exec();
      return code;
    },
    async check(userId, code, password) {
      const [stored, storedPassword] = await redis.hmget(key(userId), 'hash', 'pw');
      if (!stored) return password === 'verified' ? 'missing' : 'password-unconfirmed';
      if (password !== 'verified' && !(storedPassword && sameDigest(storedPassword, passwordDigest(userId, password)))) {
        return 'password-unconfirmed';
      }
      const matches = sameDigest(stored, codeDigest(userId, code));
      return (await redis.eval(CONSUME_SCRIPT, 1, key(userId), stored, matches ? '1' : '0', maxAttempts)) as CodeCheck;
    },
  };
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
