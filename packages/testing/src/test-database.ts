import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createConnection } from 'mariadb';
import { loadConfig, projectRoot } from '@im/config';
import { applyMigrations, poolConfigFromUrl } from '@im/db';

// The server comes from config (mysql.url or DATABASE_URL); only the database name is replaced.
const serverUrl = loadConfig().mysql.url;

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database with every migration applied; drop() removes it. One per test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `im_test_${randomBytes(6).toString('hex')}`;
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
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
