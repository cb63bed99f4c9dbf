import type { RevocationLedger } from '@im/db';

/** The ledger in memory, for tests and single-process tools; same contract as the MySQL one. */
export function createMemoryRevocationLedger(): RevocationLedger {
  const rows = new Map<string, Date>();
  const live = (expiresAt: Date) => expiresAt.getTime() > Date.now();
  return {
    async record({ jti, expiresAt }) {
      if (!rows.has(jti)) rows.set(jti, expiresAt);
    },
    async has(jti) {
      const expiresAt = rows.get(jti);
      return expiresAt !== undefined && live(expiresAt);
    },
    async unexpired(afterJti, limit) {
      return [...rows]
        .filter(([jti, expiresAt]) => jti > afterJti && live(expiresAt))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, limit)
        .map(([jti, expiresAt]) => ({ jti, expiresAt }));
    },
    async sweepExpired() {
      let swept = 0;
      for (const [jti, expiresAt] of rows) {
        if (live(expiresAt)) continue;
        rows.delete(jti);
        swept += 1;
      }
      return swept;
    },
  };
}
