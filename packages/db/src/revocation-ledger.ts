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

/**
 * The ledger in MySQL's `token_revocations`. Raw statements rather than Prisma's model queries:
 * the API loads the whole ledger before it says it is ready, and Prisma's query compiler would be
 * the slowest part of that start (see also accounts/find-user-by-email.ts in the API).
 */
export function createRevocationLedger(db: Db): RevocationLedger {
  return {
    async record({ jti, expiresAt }) {
      await db.$executeRaw`INSERT IGNORE INTO token_revocations (jti, expires_at) VALUES (${jti}, ${expiresAt})`;
    },
    async has(jti) {
      const rows = await db.$queryRaw<unknown[]>`SELECT 1 FROM token_revocations WHERE jti = ${jti} AND expires_at > ${new Date()}`;
      return rows.length > 0;
    },
    async unexpired(afterJti, limit) {
      return db.$queryRaw<RevokedToken[]>`
        SELECT jti, expires_at AS expiresAt FROM token_revocations
        WHERE jti > ${afterJti} AND expires_at > ${new Date()} ORDER BY jti LIMIT ${limit}`;
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
