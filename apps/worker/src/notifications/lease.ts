import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A lease in Redis that at most one worker holds at a time: the one that tails stored messages.
 * Hand-written (a SET NX PX plus two small scripts) rather than a lock library because it is
 * renewed for as long as the process lives, not held around one piece of work.
 */
export interface Lease {
  /** Takes the lease if it is free, renews it if this worker holds it; says whether it holds it. */
  hold(): Promise<boolean>;
  /** Gives it up now, so another worker takes over without waiting for it to expire. */
  release(): Promise<void>;
}

const HOLD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export function createLease(redis: Redis | Cluster, key: string, leaseMs: number): Lease {
  const token = randomUUID();
  return {
    async hold() {
      return (await redis.eval(HOLD, 1, key, token, String(leaseMs))) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
