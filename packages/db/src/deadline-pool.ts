import { createPool, type Pool, type PoolConfig, type PoolConnection } from 'mariadb';

/**
 * A statement that got no answer within its deadline. The connection it ran on was dropped, so
 * MariaDB rolls back whatever that connection had not committed; a COMMIT already on its way may
 * still take effect (clients retry with their `client_msg_id` for exactly that case).
 */
export class MysqlDeadlineError extends Error {
  override name = 'MysqlDeadlineError';
  readonly code = 'ER_MYSQL_DEADLINE';
  constructor(readonly deadlineMs: number) {
    super(`MySQL did not answer within ${deadlineMs} ms`);
  }
}

/** The calls of a mariadb pool that this project (and Prisma's adapter) make. */
export type DeadlinePool = Pick<Pool, 'query' | 'execute' | 'batch' | 'getConnection' | 'end'>;

/**
 * A mariadb pool whose every statement has a client-side deadline.
 *
 * Hand-written because the driver has none that works against a server that stopped answering:
 * its `queryTimeout` is MariaDB's own `max_statement_time`, which a frozen server (SIGSTOP, a
 * stalled disk or VM) never gets to apply, and its `socketTimeout` also closes idle pooled
 * connections. Here a statement that passes `queryTimeoutMs` rejects with MysqlDeadlineError and
 * its connection is destroyed, which frees its pool slot; `acquireTimeout` and `connectTimeout`
 * (driver options) bound the wait for a connection before that. Statements run through
 * `getConnection()` connections (transactions) get the same deadline each.
 */
export function createDeadlinePool(config: PoolConfig, queryTimeoutMs: number): DeadlinePool {
  if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs <= 0) {
    throw new RangeError(`deadline pool: queryTimeoutMs must be a positive integer, got ${queryTimeoutMs}`);
  }
  // Made on first use: the driver opens its minimum idle connection as soon as a pool exists, and
  // a client that is never used (Prisma's in a test, say) would never end that pool.
  let pool: Pool | undefined;
  let ended = false;
  const live = (): Pool => {
    if (ended) throw new Error('deadline pool: the pool was ended');
    return (pool ??= createPool(config));
  };

  const getConnection = async (): Promise<PoolConnection> => withDeadlines(await live().getConnection(), queryTimeoutMs);

  // Pool-level calls borrow a connection for one statement, as the driver's own pool.query does.
  const once =
    <M extends 'query' | 'execute' | 'batch'>(method: M) =>
    async (...args: Parameters<PoolConnection[M]>): Promise<unknown> => {
      const conn = await getConnection();
      try {
        return await (conn[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        await conn.release().catch(() => {});
      }
    };

  return {
    query: once('query') as Pool['query'],
    execute: once('execute') as Pool['execute'],
    batch: once('batch') as Pool['batch'],
    getConnection,
    async end() {
      ended = true;
      await pool?.end();
    },
  };
}

const TIMED = new Set(['query', 'execute', 'batch']);

/**
 * The same connection with a deadline on each statement. Past it the connection is destroyed (the
 * pool forgets it and opens another when needed) and later calls on it fail at once; `release`
 * after that is a no-op, so callers keep their usual try/finally.
 */
function withDeadlines(conn: PoolConnection, deadlineMs: number): PoolConnection {
  let destroyed = false;
  return new Proxy(conn, {
    get(target, property, receiver) {
      if (property === 'release') return () => (destroyed ? Promise.resolve() : target.release());
      if (typeof property !== 'string' || !TIMED.has(property)) {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        if (destroyed) return Promise.reject(new MysqlDeadlineError(deadlineMs));
        const running = (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[property]!(...args);
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            destroyed = true;
            // The driver settles (or never settles) the statement's own promise after this.
            running.catch(() => {});
            target.destroy();
            reject(new MysqlDeadlineError(deadlineMs));
          }, deadlineMs);
        });
        return Promise.race([running, expired]).finally(() => clearTimeout(timer));
      };
    },
  });
}

/**
 * Whether `err` says MySQL could not be reached or did not answer (as opposed to refusing a
 * statement): a deadline, no pooled connection in time, a dropped or refused connection. Callers
 * answer these with 1500 and do not retry the same work piece by piece.
 */
export function isMysqlUnavailable(err: unknown): boolean {
  if (err instanceof MysqlDeadlineError) return true;
  const { fatal, code, message } = (err ?? {}) as { fatal?: unknown; code?: unknown; message?: unknown };
  // The driver marks errors that killed the connection as fatal; a refused statement is not.
  if (fatal === true) return true;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) return true;
  // Prisma wraps the driver's error in its own (code P2039 and the like) and keeps only its text.
  return typeof message === 'string' && UNAVAILABLE_TEXT.test(message);
}

const UNAVAILABLE_CODES = /^(ER_MYSQL_DEADLINE|ER_GET_CONNECTION_TIMEOUT|ER_CONNECTION_TIMEOUT|ER_SOCKET_UNEXPECTED_CLOSE|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/;
const UNAVAILABLE_TEXT = /MySQL did not answer within|failed to retrieve a connection from pool|Connection timeout: failed to create socket|socket has unexpectedly been closed|ECONNREFUSED|ECONNRESET/;
