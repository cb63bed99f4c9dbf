import type { Cluster, Redis } from 'ioredis';
import type { RevocationLedger } from '@im/db';

/**
 * Redis's copy of the revocation ledger: one sorted set per deployment, member `jti`, score the
 * token's expiry in ms. One extra member, `COMPLETE` with score +inf, is added only by a load of
 * the whole ledger. A Redis that restarted with empty data, or lost the key, no longer has it, so
 * "not in the set" counts as "not revoked" only while `COMPLETE` is there.
 *
 * One key rather than a key per token: one round trip answers both "is the cache complete" and
 * "is this jti revoked" (ZMSCORE), atomically, and on Redis Cluster it lives on one shard.
 */
export type CacheAnswer = 'revoked' | 'not-revoked' | 'unknown';

const COMPLETE = '*complete*';
/** Members per ZADD while loading. */
const LOAD_CHUNK = 1_000;

export class RevocationCache {
  readonly key: string;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.key = `${prefix}revocations`;
  }

  async lookup(jti: string, now = Date.now()): Promise<CacheAnswer> {
    const [complete, score] = (await this.redis.zmscore(this.key, COMPLETE, jti)) as Array<string | null>;
    if (score !== null && score !== undefined && Number(score) > now) return 'revoked';
    return complete === null || complete === undefined ? 'unknown' : 'not-revoked';
  }

  async add(jti: string, expiresAt: Date): Promise<void> {
    await this.redis.zadd(this.key, expiresAt.getTime(), jti);
  }

  async isComplete(): Promise<boolean> {
    return (await this.redis.zscore(this.key, COMPLETE)) !== null;
  }

  /**
   * Copies every unexpired revocation of `ledger` into the set and marks it complete, in one
   * MULTI: if Redis restarts halfway, nothing of it lands, rather than a "complete" mark over half
   * a copy. Revocations recorded meanwhile are added by their own `add`, before or after this.
   */
  async load(ledger: RevocationLedger): Promise<number> {
    const all: Array<{ jti: string; expiresAt: Date }> = [];
    for (let after = ''; ; ) {
      const page = await ledger.unexpired(after, 5_000);
      all.push(...page);
      if (page.length < 5_000) break;
      after = page.at(-1)!.jti;
    }
    const multi = this.redis.multi();
    for (let i = 0; i < all.length; i += LOAD_CHUNK) {
      const chunk = all.slice(i, i + LOAD_CHUNK);
      multi.zadd(this.key, ...chunk.flatMap(({ jti, expiresAt }) => [expiresAt.getTime(), jti]));
    }
    multi.zadd(this.key, '+inf', COMPLETE);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('revocation cache: the load transaction was discarded');
    return all.length;
  }

  /** Drops members whose tokens have expired (never `COMPLETE`). */
  async sweepExpired(now = Date.now()): Promise<number> {
    return this.redis.zremrangebyscore(this.key, '-inf', now);
  }
}
