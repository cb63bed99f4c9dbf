import type { Cluster, Redis } from 'ioredis';
import type { RevocationLedger } from '@im/db';
import { errors } from '@im/protocol';
import { RevocationCache } from './revocation-cache.ts';

/**
 * Revoked token ids (`jti`). A token stays revoked until it would have expired anyway, so the
 * store never grows past the set of live tokens.
 */
export interface TokenRevocations {
  /** Marks `jti` revoked until `expiresAt` and tells every gateway, which closes its sockets. */
  revoke(jti: string, expiresAt: Date): Promise<void>;
  /**
   * Whether `jti` is revoked. Fails when that cannot be known (Redis down or its cache lost, and
   * no ledger to ask): a token is never taken for good unchecked. A lost cache fails with the
   * contract's 1500 error, an unreachable Redis with its own error (the callers answer 1500).
   */
  isRevoked(jti: string): Promise<boolean>;
}

/** Channel on which revoked `jti`s are published; gateways subscribe to kick sockets at once. */
export function revocationChannel(prefix: string): string {
  return `${prefix}revocations`;
}

export interface RedisRevocationsOptions {
  redis: Redis | Cluster;
  prefix: string;
  /** Publish with SPUBLISH, matching gateways that use sharded pub/sub. @default false */
  sharded?: boolean;
  /**
   * Where revocations are kept for good (MySQL: `createRevocationLedger` of @im/db). With it, a
   * logout is recorded there first, Redis is only its cache, and a lost cache is rebuilt from it.
   * Without it (a process with no MySQL at hand), a check while the cache is incomplete fails
   * with 1500 until a process with a ledger has rebuilt it.
   */
  ledger?: RevocationLedger;
  /** Told about cache repairs that failed and will be retried. @default ignore */
  onError?: (err: unknown) => void;
}

/** How often a revocation that reached the ledger but not Redis is pushed to Redis again. */
const REPAIR_RETRY_MS = 500;

/**
 * Revocations checked against Redis (one round trip, see RevocationCache) and, given a ledger,
 * kept in MySQL, which also answers while Redis does not.
 *
 * A logout while Redis is down still revokes: the ledger has it, so the API answers success; the
 * cache is repaired (and the gateways told) as soon as Redis answers again, retried every 0.5 s
 * by this process. Until then every gateway's check fails with 1500, so nobody gets in with the
 * token meanwhile. Should this process die before its repair while Redis kept its data, the token
 * works again until an API starts (startRevocationUpkeep reloads the whole ledger then; the start
 * command restarts a crashed API within seconds). A Redis that lost its data is rebuilt from the
 * ledger as soon as it is found incomplete.
 */
export function createRedisRevocations({ redis, prefix, sharded = false, ledger, onError = () => {} }: RedisRevocationsOptions): TokenRevocations {
  const cache = new RevocationCache(redis, prefix);
  const unrepaired = new Map<string, Date>();
  let repairTimer: NodeJS.Timeout | undefined;
  let loading: Promise<unknown> | undefined;

  const announce = async (jti: string, expiresAt: Date) => {
    await cache.add(jti, expiresAt);
    if (sharded) await redis.spublish(revocationChannel(prefix), jti);
    else await redis.publish(revocationChannel(prefix), jti);
  };

  const scheduleRepair = () => {
    if (repairTimer) return;
    repairTimer = setTimeout(() => void repair(), REPAIR_RETRY_MS);
    // Must not keep a process alive that is otherwise done.
    repairTimer.unref();
  };

  async function repair(): Promise<void> {
    repairTimer = undefined;
    for (const [jti, expiresAt] of unrepaired) {
      if (expiresAt.getTime() <= Date.now()) {
        unrepaired.delete(jti);
        continue;
      }
      try {
        await announce(jti, expiresAt);
        unrepaired.delete(jti);
      } catch (err) {
        onError(err);
        break;
      }
    }
    if (unrepaired.size > 0) scheduleRepair();
  }

  /** One load at a time, shared by every check that found the cache incomplete. */
  const loadOnce = (source: RevocationLedger) => {
    loading ??= cache.load(source).finally(() => {
      loading = undefined;
    });
    return loading;
  };

  return {
    async revoke(jti, expiresAt) {
      if (!ledger) return announce(jti, expiresAt);
      await ledger.record({ jti, expiresAt });
      try {
        await announce(jti, expiresAt);
      } catch (err) {
        onError(err);
        unrepaired.set(jti, expiresAt);
        scheduleRepair();
      }
    },

    async isRevoked(jti) {
      let answer;
      try {
        answer = await cache.lookup(jti);
      } catch (err) {
        // Redis down or frozen: the ledger answers, so the HTTP API keeps serving signed-in users.
        if (ledger) return ledger.has(jti);
        throw err;
      }
      if (answer !== 'unknown') return answer === 'revoked';
      if (!ledger) throw errors.serviceUnavailable('暂时无法确认登录状态，请稍后重试');
      try {
        await loadOnce(ledger);
      } catch {
        // Redis went again, or the load failed: the ledger itself still answers this one.
        return ledger.has(jti);
      }
      return (await cache.lookup(jti)) === 'revoked' || (await ledger.has(jti));
    },
  };
}

export interface RevocationUpkeepOptions {
  redis: Redis | Cluster;
  prefix: string;
  ledger: RevocationLedger;
  /** How often the cache's completeness is checked (it is also checked when Redis reconnects). @default 5000 */
  checkEveryMs?: number;
  /** How often expired revocations are deleted from the ledger and the cache. @default 3600000 */
  sweepEveryMs?: number;
  /** Failures of background work (it is retried at the next turn). @default ignore */
  onError?: (err: unknown) => void;
  /** Each rebuild of the cache and each sweep, for the log. */
  onEvent?: (event: { kind: 'rebuilt'; revocations: number } | { kind: 'swept'; ledger: number; cache: number }) => void;
}

/**
 * Background work for a process that holds the ledger (the API): load the whole ledger into the
 * Redis cache at start, load it again as soon as the cache is found incomplete (right after Redis
 * reconnects, and every few seconds), so gateways without a ledger stop answering 1500, and
 * delete expired revocations every hour. `ready` settles after the first load (it never rejects;
 * a failure goes to `onError` and the next turn retries).
 */
export function startRevocationUpkeep(options: RevocationUpkeepOptions): { ready: Promise<void>; stop(): void } {
  const { redis, prefix, ledger, checkEveryMs = 5_000, sweepEveryMs = 3_600_000, onError = () => {}, onEvent = () => {} } = options;
  const cache = new RevocationCache(redis, prefix);
  let running: Promise<void> | undefined;

  const ensureComplete = (always = false) => {
    running ??= (async () => {
      if (!always && (await cache.isComplete())) return;
      const revocations = await cache.load(ledger);
      onEvent({ kind: 'rebuilt', revocations });
    })()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const sweep = async () => {
    try {
      const fromLedger = await ledger.sweepExpired();
      const fromCache = await cache.sweepExpired();
      onEvent({ kind: 'swept', ledger: fromLedger, cache: fromCache });
    } catch (err) {
      onError(err);
    }
  };

  const onReady = () => void ensureComplete();
  redis.on('ready', onReady);
  const checkTimer = setInterval(() => void ensureComplete(), checkEveryMs);
  const sweepTimer = setInterval(() => void sweep(), sweepEveryMs);
  checkTimer.unref();
  sweepTimer.unref();
  return {
    // A full load at start even over a complete cache: it also replays logouts whose cache repair
    // an earlier process of ours did not live to make.
    ready: ensureComplete(true),
    stop() {
      redis.off('ready', onReady);
      clearInterval(checkTimer);
      clearInterval(sweepTimer);
    },
  };
}

export function createMemoryRevocations(): TokenRevocations {
  const revoked = new Map<string, number>();
  return {
    async revoke(jti, expiresAt) {
      revoked.set(jti, expiresAt.getTime());
    },
    async isRevoked(jti) {
      const until = revoked.get(jti);
      return until !== undefined && until > Date.now();
    },
  };
}
