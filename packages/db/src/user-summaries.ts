import { DEFAULT_MYSQL_DEADLINES, poolConfigFromUrl, type MysqlDeadlines } from './connection-options.ts';
import { createDeadlinePool } from './deadline-pool.ts';

/** Who a user id is, as frames show it. */
export interface UserSummaryRow {
  userId: string;
  username: string;
  avatar: string;
}

export interface UserSummaryReader {
  /** The users with these ids, in one statement; unknown ids are simply absent. */
  byIds(userIds: string[]): Promise<UserSummaryRow[]>;
  close(): Promise<void>;
}

export interface UserSummaryReaderOptions {
  /** `mysql://user:pass@host:port/db` */
  url: string;
  /** Connections opened on demand. @default 2 */
  connectionLimit?: number;
  /** @default DEFAULT_MYSQL_DEADLINES (settings.yaml's) */
  deadlines?: MysqlDeadlines;
}

/**
 * User lookups for the gateway's upgrades, on the mariadb driver directly: through Prisma a
 * `findMany` of 500 ids cost more CPU than MariaDB spends answering it, and a reconnect storm
 * looks up every user of a dead gateway at once.
 */
export function createUserSummaryReader(options: UserSummaryReaderOptions): UserSummaryReader {
  const deadlines = options.deadlines ?? DEFAULT_MYSQL_DEADLINES;
  const pool = createDeadlinePool(poolConfigFromUrl(options.url, options.connectionLimit ?? 2, deadlines), deadlines.query_timeout_ms);
  return {
    async byIds(userIds) {
      if (userIds.length === 0) return [];
      const rows: Array<{ user_id: string; username: string; avatar: string }> = await pool.query(
        `SELECT user_id, username, avatar FROM users WHERE user_id IN (${userIds.map(() => '?').join(', ')})`,
        userIds,
      );
      return rows.map((row) => ({ userId: row.user_id, username: row.username, avatar: row.avatar }));
    },
    close: () => pool.end(),
  };
}
