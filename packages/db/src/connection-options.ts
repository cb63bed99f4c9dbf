import { redactUrl } from '@im/config';

/** Connection settings both the mariadb driver and Prisma's adapter accept. */
export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  connectionLimit: number;
  minimumIdle: number;
  acquireTimeout: number;
  connectTimeout: number;
  bigIntAsNumber: boolean;
}

/** Deadlines of MySQL calls on request and chat paths (`mysql.*_timeout_ms` in settings). */
export interface MysqlDeadlines {
  /** Opening one connection, handshake included. */
  connect_timeout_ms: number;
  /** Waiting for a pooled connection, opening one included. */
  acquire_timeout_ms: number;
  /** One statement's answer (see deadline-pool.ts). */
  query_timeout_ms: number;
}

/**
 * What the request-path pools (createDb, the history and user readers, the message writer) use
 * when their caller passes no deadlines: the defaults of config/settings.yaml
 * (packages/db/test/deadline-defaults.test.ts holds them equal).
 */
export const DEFAULT_MYSQL_DEADLINES: MysqlDeadlines = { connect_timeout_ms: 1_000, acquire_timeout_ms: 1_000, query_timeout_ms: 2_000 };

/**
 * Turns `mysql://user:pass@host:port/db` into mariadb pool settings. Done here rather than by the
 * driver because the driver only knows the `mariadb://` scheme and we accept both. Without
 * `deadlines` (migrations, tools) connecting may take 3 s and acquiring 5 s.
 */
export function poolConfigFromUrl(url: string, connectionLimit = 10, deadlines?: MysqlDeadlines): ConnectionSettings {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`database URL ${redactUrl(url)} names no database`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    database,
    connectionLimit,
    // Open connections as needed rather than all at start: several processes share one server's
    // max_connections (151 by default), and most of them are idle most of the time.
    minimumIdle: 1,
    // Fail fast when MariaDB is down instead of queueing requests for the default 10 s.
    acquireTimeout: deadlines?.acquire_timeout_ms ?? 5_000,
    connectTimeout: deadlines?.connect_timeout_ms ?? 3_000,
    // BIGINT ids come back as JS bigint through Prisma; keep the driver consistent.
    bigIntAsNumber: false,
  };
}
