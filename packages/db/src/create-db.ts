import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClient } from './generated/client.ts';
import { poolConfigFromUrl } from './connection-options.ts';

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** `mysql://user:pass@host:port/database` */
  url: string;
  /** @default 10 */
  connectionLimit?: number;
}

/** A Prisma client over the MariaDB driver adapter (Prisma 7 needs no native query engine). */
export function createDb({ url, connectionLimit = 10 }: CreateDbOptions): Db {
  const adapter = new PrismaMariaDb(poolConfigFromUrl(url, connectionLimit));
  return new PrismaClient({ adapter });
}

/** Throws when MySQL cannot answer a trivial query; used at start-up and by /readyz. */
export async function pingDb(db: Db): Promise<void> {
  await db.$queryRawUnsafe('SELECT 1');
}
