import type { Db } from './create-db.ts';

/** One revoked token: its `jti` and when it would have expired anyway. */
export interface RevokedToken {
  jti: string;
  expiresAt: Date;
}

/**
 * Where revoked tokens are kept for good (packages/auth caches them in Redis). Implemented on
 * MySQL here and in memory in packages/auth; packages/auth/test/revocation-ledger-contract.ts holds
 * both to the same behaviour.
 */
export interface RevocationLedger {
  /** Records `jti` as revoked until `expiresAt`. Recording it again changes nothing. */
  record(token: RevokedToken): Promise<void>;
  /** Whether `jti` is recorded and its token not yet expired. */
  has(jti: string): Promise<boolean>;
  /** Unexpired revocations with a `jti` after `afterJti`, in `jti` order: a page of the cache's rebuild. */
  unexpired(afterJti: string, limit: number): Promise<RevokedToken[]>;
  /** Forgets revocations whose tokens have expired; returns how many. */
  sweepExpired(): Promise<number>;
}

/** Rows deleted per statement, so a sweep never holds many row locks at once. */
const SWEEP_BATCH = 1_000;

/** The ledger in MySQL's `token_revocations`, through Prisma: logouts and rebuilds are rare. */
export function createRevocationLedger(db: Db): RevocationLedger {
  return {
    async record({ jti, expiresAt }) {
      await db.tokenRevocation.createMany({ data: [{ jti, expiresAt }], skipDuplicates: true });
    },
    async has(jti) {
      const row = await db.tokenRevocation.findFirst({ where: { jti, expiresAt: { gt: new Date() } }, select: { jti: true } });
      return row !== null;
    },
    async unexpired(afterJti, limit) {
      return db.tokenRevocation.findMany({
        where: { jti: { gt: afterJti }, expiresAt: { gt: new Date() } },
        orderBy: { jti: 'asc' },
        take: limit,
        select: { jti: true, expiresAt: true },
      });
    },
    async sweepExpired() {
      const now = new Date();
      let total = 0;
      for (;;) {
        const deleted = await db.$executeRaw`DELETE FROM token_revocations WHERE expires_at <= ${now} LIMIT ${SWEEP_BATCH}`;
        total += deleted;
        if (deleted < SWEEP_BATCH) return total;
      }
    },
  };
}
