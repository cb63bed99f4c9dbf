import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClient } from './generated/client.ts';
import { DEFAULT_MYSQL_DEADLINES, poolConfigFromUrl, type MysqlDeadlines } from './connection-options.ts';
import { createDeadlinePool } from './deadline-pool.ts';

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** `mysql://user:pass@host:port/database` */
  url: string;
  /** @default 10 */
  connectionLimit?: number;
  /** @default DEFAULT_MYSQL_DEADLINES (settings.yaml's) */
  deadlines?: MysqlDeadlines;
}

/**
 * A Prisma client over the MariaDB driver adapter (Prisma 7 needs no native query engine), on a
 * pool whose every statement has a deadline (deadline-pool.ts).
 */
export function createDb({ url, connectionLimit = 10, deadlines = DEFAULT_MYSQL_DEADLINES }: CreateDbOptions): Db {
  const pool = createDeadlinePool(
    // What the adapter sets on pools it makes itself; it leaves a pool it is given alone.
    { ...poolConfigFromUrl(url, connectionLimit, deadlines), prepareCacheLength: 0 },
    deadlines.query_timeout_ms,
  );
  // The adapter takes any object with the pool's calls (it pins its own copy of the driver, whose
  // types differ from ours by version only); it ends the pool on $disconnect.
  const adapter = new PrismaMariaDb(pool as unknown as ConstructorParameters<typeof PrismaMariaDb>[0], { disposeExternalPool: true });
  // 'minimal': an error's message is Prisma's own words only. The default quotes the calling
  // source lines with their file path, which then ended up in the logs of whoever logged it.
  return new PrismaClient({ adapter, errorFormat: 'minimal' });
}

/** Throws when MySQL cannot answer a trivial query; used at start-up and by /readyz. */
export async function pingDb(db: Db): Promise<void> {
  await db.$queryRawUnsafe('SELECT 1');
}
