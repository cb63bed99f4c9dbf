import type { Redis } from 'ioredis';

/**
 * Revoked token ids (`jti`). A token stays revoked until it would have expired anyway, so the
 * store never grows past the set of live tokens.
 */
export interface TokenRevocations {
  /** Marks `jti` revoked until `expiresAt` and tells every gateway, which closes its sockets. */
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

/** Channel on which revoked `jti`s are published; gateways subscribe to kick sockets at once. */
export function revocationChannel(prefix: string): string {
  return `${prefix}revocations`;
}

export interface RedisRevocationsOptions {
  redis: Redis;
  prefix: string;
  /** Publish with SPUBLISH, matching gateways that use sharded pub/sub. @default false */
  sharded?: boolean;
}

export function createRedisRevocations({ redis, prefix, sharded = false }: RedisRevocationsOptions): TokenRevocations {
  const key = (jti: string) => `${prefix}revoked:${jti}`;
  return {
    async revoke(jti, expiresAt) {
      const ttlMs = Math.max(1, expiresAt.getTime() - Date.now());
      await redis.set(key(jti), '1', 'PX', ttlMs);
      if (sharded) await redis.spublish(revocationChannel(prefix), jti);
      else await redis.publish(revocationChannel(prefix), jti);
    },
    async isRevoked(jti) {
      return (await redis.exists(key(jti))) === 1;
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
