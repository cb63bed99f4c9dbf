import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createConnection } from 'mariadb';
import { projectRoot } from '@im/config';
import { applyMigrations, poolConfigFromUrl } from '@im/db';

/** The server tests use; override with TEST_MYSQL_URL (no database part). */
const SERVER_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database with every migration applied; drop() removes it. One per test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `im_test_${randomBytes(6).toString('hex')}`;
  const url = `${SERVER_URL}/${name}`;
  await applyMigrations(url, resolve(projectRoot, 'prisma/migrations'));
  return {
    url,
    name,
    async drop() {
      const { database: _unused, ...server } = poolConfigFromUrl(url);
      const conn = await createConnection(server);
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}
