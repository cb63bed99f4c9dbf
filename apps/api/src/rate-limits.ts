import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { errors } from '@im/protocol';
import type { Config } from '@im/config';

/**
 * Attempt limits kept in Redis, so every API replica counts against the same numbers.
 * Per IP every attempt counts; per account only failures count, so a user who logs in often is
 * never locked out while a guesser is.
 */
export interface RateLimits {
  /** Counts one login attempt from `ip`; throws 1007 when over the limit. */
  loginAttempt(ip: string): Promise<void>;
  /** Throws 1007 while the account has too many recent failures. */
  assertAccountOpen(account: string): Promise<void>;
  /** Counts one failed login (wrong password or code) against the account. */
  accountFailure(account: string): Promise<void>;
  /** Counts one registration from `ip`; throws 1007 when over the limit. */
  registerAttempt(ip: string): Promise<void>;
}

/** Names of the limits, as metrics label them. */
export type LimitName = 'login-ip' | 'login-account' | 'register-ip';

export function createRateLimits(
  redis: Redis | Cluster,
  prefix: string,
  settings: Config['rate_limit'],
  /** Called for every request a limit refuses (the API counts them, `im_api_rate_limited_total`). */
  onLimited: (limit: LimitName) => void = () => {},
): RateLimits {
  const limiter = (name: LimitName, points: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}rl:${name}`,
      points,
      duration: settings.window_seconds,
    });
  const loginByIp = limiter('login-ip', settings.login_per_ip);
  const failuresByAccount = limiter('login-account', settings.login_per_account);
  const registerByIp = limiter('register-ip', settings.register_per_ip);

  return {
    loginAttempt: (ip) => consume(loginByIp, ip, () => onLimited('login-ip')),
    registerAttempt: (ip) => consume(registerByIp, ip, () => onLimited('register-ip')),
    async assertAccountOpen(account) {
      const state = await failuresByAccount.get(account);
      if (state && state.consumedPoints >= settings.login_per_account) {
        onLimited('login-account');
        throw errors.tooManyRequests(Math.ceil(state.msBeforeNext / 1000));
      }
    },
    async accountFailure(account) {
      // Over the limit is fine here: the next assertAccountOpen refuses.
      await failuresByAccount.penalty(account, 1);
    },
  };
}

async function consume(limiter: RateLimiterRedis, key: string, onLimited: () => void): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    onLimited();
    throw errors.tooManyRequests(Math.ceil(err.msBeforeNext / 1000));
  }
}
