import { createPool, type PoolConnection } from 'mariadb';
import { poolConfigFromUrl } from './connection-options.ts';

/** A statement that MySQL did not answer in time. `code` is what callers map to "service unavailable". */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
  readonly code = 'ETIMEDOUT';
}

/** Statements inside one transaction. */
export interface SqlTx {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of any statement; each caller names its row type
  query<T = any>(sql: string, values?: readonly unknown[]): Promise<T>;
}

/**
 * Raw SQL on the mariadb driver with a deadline on everything: rooms, memberships, read cursors
 * and the inbox (the inbox is hot; Prisma costs more CPU per query than MariaDB spends on it).
 */
export interface SqlRunner {
  /** One statement on a pooled connection. Rejects with DeadlineError after the deadline. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of any statement; each caller names its row type
  query<T = any>(sql: string, values?: readonly unknown[]): Promise<T>;
  /**
   * Runs `work` in one transaction on one connection and commits; rolls back if it throws.
   * A deadlock or lock wait timeout runs `work` again from the start (InnoDB rolled it all back),
   * so `work` must have no effect outside the transaction. The deadline covers every attempt.
   *
   * Transactions run at READ COMMITTED: they serialise on the rows they lock (`FOR UPDATE`), and
   * each read after a lock must see what the previous holder committed. Under InnoDB's default
   * REPEATABLE READ a plain read returns the snapshot taken at the transaction's first read,
   * possibly before the lock was granted (two rooms adding one user at once both counted her
   * rooms as they were before either added her).
   */
  transaction<T>(work: (tx: SqlTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlRunnerOptions {
  /** `mysql://user:pass@host:port/db` */
  url: string;
  /** Connections opened on demand. @default 4 */
  connectionLimit?: number;
  /**
   * Longest a call may take, waiting for a connection included. On expiry the connection is
   * destroyed (MySQL rolls back whatever it was doing), so a frozen server costs callers this
   * long and no more. @default 3_000
   */
  deadlineMs?: number;
}

const DEADLOCK = 1213;
const LOCK_WAIT_TIMEOUT = 1205;
const ATTEMPTS = 3;

export function createSqlRunner(options: SqlRunnerOptions): SqlRunner {
  const deadlineMs = options.deadlineMs ?? 3_000;
  if (!Number.isInteger(deadlineMs) || deadlineMs <= 0) throw new RangeError(`createSqlRunner: deadlineMs must be a positive integer, got ${deadlineMs}`);
  const pool = createPool({
    ...poolConfigFromUrl(options.url, options.connectionLimit ?? 4),
    acquireTimeout: deadlineMs,
    dateStrings: true,
    insertIdAsNumber: false,
  });

  /**
   * Runs `work` on a connection of its own; past `deadline` the connection is destroyed and the
   * call rejects. Hand-written because the driver's own `timeout` option is MariaDB-only
   * (`SET STATEMENT max_statement_time`, refused on MySQL 8) and does not help when the server
   * stops answering altogether.
   */
  async function withConnection<T>(deadline: number, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await pool.getConnection();
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        expired = true;
        conn.destroy();
        reject(new DeadlineError(`MySQL did not answer within ${deadlineMs} ms`));
      }, Math.max(0, left));
    });
    const running = work(conn);
    // After the deadline the destroyed connection fails whatever was running; nobody awaits it.
    running.catch(() => {});
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
      if (!expired) await conn.release().catch(() => {});
    }
  }

  return {
    query(sql, values) {
      return withConnection(Date.now() + deadlineMs, (conn) => conn.query(sql, values));
    },

    async transaction(work) {
      const deadline = Date.now() + deadlineMs;
      for (let attempt = 1; ; attempt++) {
        try {
          return await withConnection(deadline, async (conn) => {
            await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
            await conn.beginTransaction();
            try {
              const result = await work({ query: (sql, values) => conn.query(sql, values) });
              await conn.commit();
              return result;
            } catch (err) {
              await conn.rollback().catch(() => {});
              throw err;
            }
          });
        } catch (err) {
          const errno = (err as { errno?: number }).errno;
          const retry = (errno === DEADLOCK || errno === LOCK_WAIT_TIMEOUT) && attempt < ATTEMPTS && Date.now() < deadline;
          if (!retry) throw err;
        }
      }
    },

    close: () => pool.end(),
  };
}
