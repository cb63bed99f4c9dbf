import { createHmac, randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';

export type CodeCheck =
  /** Right code: it is now used up. */
  | 'ok'
  /** Wrong code; guesses remain. */
  | 'wrong'
  /** Too many wrong guesses: dead until a new code is sent, even the right one fails. */
  | 'exhausted'
  /** No code was sent, or it expired. */
  | 'missing';

/** One-time login codes: 6 digits, stored only as an HMAC, single use, limited guesses. */
export interface LoginCodes {
  /** Makes a new code for the user, replacing any earlier one. Returns the plain code to mail. */
  issue(userId: string): Promise<string>;
  check(userId: string, code: string): Promise<CodeCheck>;
}

export interface LoginCodeOptions {
  redis: Redis;
  prefix: string;
  /** Key for the HMAC that stores codes; a leaked Redis dump then reveals no usable code. */
  secret: string;
  /** @default 600 */
  ttlSeconds?: number;
  /** @default 5 */
  maxAttempts?: number;
}

// Atomic check: counts the guess first, so parallel guesses cannot exceed the limit, and deletes
// the code when it matches, so it can be used once.
const CHECK_SCRIPT = `
local stored = redis.call('HGET', KEYS[1], 'hash')
if not stored then return 'missing' end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[2]) then return 'exhausted' end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
return 'wrong'
`;

export function createLoginCodes(options: LoginCodeOptions): LoginCodes {
  const { redis, prefix, secret, ttlSeconds = 600, maxAttempts = 5 } = options;
  const key = (userId: string) => `${prefix}login-code:${userId}`;
  const digest = (userId: string, code: string) =>
    createHmac('sha256', secret).update(`${userId}:${code}`).digest('hex');

  return {
    async issue(userId) {
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await redis
        .multi()
        .del(key(userId))
        .hset(key(userId), 'hash', digest(userId, code), 'attempts', 0)
        .expire(key(userId), ttlSeconds)
        .exec();
      return code;
    },
    async check(userId, code) {
      const result = await redis.eval(CHECK_SCRIPT, 1, key(userId), digest(userId, code), maxAttempts);
      return result as CodeCheck;
    },
  };
}
