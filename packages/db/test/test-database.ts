import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createConnection, type Connection } from 'mariadb';
import { loadConfig } from '@im/config';
import { poolConfigFromUrl } from '../src/connection-options.ts';

/** The repository's real migrations folder. */
export const migrationsDir = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));
export const schemaPath = fileURLToPath(new URL('../../../prisma/schema.prisma', import.meta.url));

// The server comes from config (mysql.url and its environment override), so a CI run pointed at
// another MariaDB tests that one; only the database name is replaced.
const serverUrl = loadConfig().mysql.url;

export interface TestDatabase {
  name: string;
  url: string;
}

/**
 * Hands out fresh `im_test_<hex>` database names and drops every one of them in `dropAll`, so a
 * test file leaves nothing behind. The databases are not created here: applyMigrations creates
 * its database the way Prisma does, and that is part of what is tested.
 */
export function testDatabases(): { create(): TestDatabase; dropAll(): Promise<void> } {
  const names: string[] = [];
  return {
    create() {
      const name = `im_test_${randomBytes(6).toString('hex')}`;
      names.push(name);
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return { name, url: url.toString() };
    },
    async dropAll() {
      const conn = await connectServer();
      try {
        for (const name of names) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}

/** A single connection to the server with no default database; the caller ends it. */
export async function connectServer(): Promise<Connection> {
  const { database: _ignored, ...server } = poolConfigFromUrl(serverUrl);
  return createConnection(server);
}
