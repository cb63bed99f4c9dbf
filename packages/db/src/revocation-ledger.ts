import { DEFAULT_MYSQL_DEADLINES, poolConfigFromUrl, type MysqlDeadlines } from './connection-options.ts';
import { createDeadlinePool } from './deadline-pool.ts';

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

export interface RevocationLedgerOptions {
  /** `mysql://user:pass@host:port/db` */
  url: string;
  /** Logouts and cache rebuilds are rare: a connection or two. @default 2 */
  connectionLimit?: number;
  /** @default DEFAULT_MYSQL_DEADLINES (settings.yaml's) */
  deadlines?: MysqlDeadlines;
}

/** Rows deleted per statement, so a sweep never holds many row locks at once. */
const SWEEP_BATCH = 1_000;

/**
 * The ledger in MySQL's `token_revocations`, on a small mariadb pool of its own with the request
 * deadlines: the API holds one, and so can a gateway, which keeps no Prisma client.
 */
export function createRevocationLedger(options: RevocationLedgerOptions): RevocationLedger & { close(): Promise<void> } {
  const deadlines = options.deadlines ?? DEFAULT_MYSQL_DEADLINES;
  const pool = createDeadlinePool(
    // DATETIME(3) as UTC text both ways, as Prisma and the message writer store it.
    { ...poolConfigFromUrl(options.url, options.connectionLimit ?? 2, deadlines), dateStrings: true },
    deadlines.query_timeout_ms,
  );
  return {
    async record({ jti, expiresAt }) {
      await pool.query('INSERT IGNORE INTO token_revocations (jti, expires_at) VALUES (?, ?)', [jti, utcText(expiresAt)]);
    },
    async has(jti) {
      const rows: unknown[] = await pool.query('SELECT 1 FROM token_revocations WHERE jti = ? AND expires_at > ?', [jti, utcText(new Date())]);
      return rows.length > 0;
    },
    async unexpired(afterJti, limit) {
      const rows: Array<{ jti: string; expires_at: string }> = await pool.query(
        'SELECT jti, expires_at FROM token_revocations WHERE jti > ? AND expires_at > ? ORDER BY jti LIMIT ?',
        [afterJti, utcText(new Date()), limit],
      );
      return rows.map((row) => ({ jti: row.jti, expiresAt: new Date(`${row.expires_at.replace(' ', 'T')}Z`) }));
    },
    async sweepExpired() {
      const now = utcText(new Date());
      let total = 0;
      for (;;) {
        const { affectedRows }: { affectedRows: number } = await pool.query('DELETE FROM token_revocations WHERE expires_at <= ? LIMIT ?', [now, SWEEP_BATCH]);
        total += affectedRows;
        if (affectedRows < SWEEP_BATCH) return total;
      }
    },
    close: () => pool.end(),
  };
}

/** DATETIME(3) text in UTC. */
function utcText(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
