import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mariadb';
import { poolConfigFromUrl } from './connection-options.ts';

/**
 * Applies prisma/migrations the way `prisma migrate deploy` does, without Prisma's native schema
 * engine (which cannot be installed here; see DEVELOPERS.md). The bookkeeping is Prisma's own:
 * the same `_prisma_migrations` table, the same checksum (SHA-256 of migration.sql), the same
 * advisory lock, so an operator with the engine can run Prisma's command on the same database.
 */

// Prisma's MySQL DDL for its bookkeeping table, column for column.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS \`_prisma_migrations\` (
    \`id\`                    VARCHAR(36) PRIMARY KEY NOT NULL,
    \`checksum\`              VARCHAR(64) NOT NULL,
    \`finished_at\`           DATETIME(3),
    \`migration_name\`        VARCHAR(255) NOT NULL,
    \`logs\`                  TEXT,
    \`rolled_back_at\`        DATETIME(3),
    \`started_at\`            DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    \`applied_steps_count\`   INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

// The lock name Prisma's schema engine takes, so both tools exclude each other.
const LOCK_NAME = 'prisma_migrate';
const LOCK_TIMEOUT_SECONDS = 10;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
  /** Applied migrations whose file changed since; Prisma warns about these too. */
  modified: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Migration folders in the order Prisma applies them (lexicographic by folder name). */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256(sql) };
    });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Prisma's `script_matches_checksum`: the file also matches with its line endings swapped, because
 * git rewrites them on checkout (core.autocrlf) and that is not an edit.
 */
function matchesChecksum(sql: string, checksum: string): boolean {
  return [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\n/g, '\r\n')].some((variant) => sha256(variant) === checksum);
}

export async function applyMigrations(url: string, migrationsDir: string): Promise<MigrateResult> {
  const { database, ...server } = poolConfigFromUrl(url);
  const migrations = readMigrations(migrationsDir);

  const conn = await createConnection({ ...server, multipleStatements: true });
  try {
    // Like Prisma, create the database when it does not exist yet.
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await conn.query(`USE ${quoteIdentifier(database)}`);
    const [lock] = await conn.query('SELECT GET_LOCK(?, ?) AS locked', [LOCK_NAME, LOCK_TIMEOUT_SECONDS]);
    if (Number(lock.locked) !== 1) {
      throw new MigrationError(`another migration holds the '${LOCK_NAME}' lock; try again when it is done`);
    }
    try {
      return await applyLocked(conn, migrations);
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  } finally {
    await conn.end();
  }
}

async function applyLocked(conn: Connection, migrations: MigrationFile[]): Promise<MigrateResult> {
  await conn.query(CREATE_MIGRATIONS_TABLE);
  const rows: Array<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }> =
    await conn.query('SELECT migration_name, checksum, finished_at, rolled_back_at FROM `_prisma_migrations` ORDER BY started_at');

  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw new MigrationError(
      `migration ${failed.migration_name} failed earlier and was not resolved; fix the database, then mark it ` +
        `rolled back (UPDATE _prisma_migrations SET rolled_back_at = NOW(3) WHERE migration_name = '${failed.migration_name}') ` +
        `or run 'prisma migrate resolve'`,
    );
  }

  const finished = new Map(rows.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row.checksum]));
  const result: MigrateResult = { applied: [], alreadyApplied: [], modified: [] };
  for (const migration of migrations) {
    const appliedChecksum = finished.get(migration.name);
    if (appliedChecksum !== undefined) {
      result.alreadyApplied.push(migration.name);
      if (!matchesChecksum(migration.sql, appliedChecksum)) result.modified.push(migration.name);
      continue;
    }
    await applyOne(conn, migration);
    result.applied.push(migration.name);
  }
  return result;
}

async function applyOne(conn: Connection, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await conn.query(
    'INSERT INTO `_prisma_migrations` (id, checksum, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, NOW(3), 0)',
    [id, migration.checksum, migration.name],
  );
  try {
    await conn.query(migration.sql);
  } catch (err) {
    // MySQL DDL cannot be rolled back; record the failure as Prisma does so nobody builds on it.
    await conn.query('UPDATE `_prisma_migrations` SET logs = ? WHERE id = ?', [(err as Error).message, id]);
    throw new MigrationError(`migration ${migration.name} failed: ${(err as Error).message}`);
  }
  await conn.query('UPDATE `_prisma_migrations` SET finished_at = NOW(3), applied_steps_count = 1 WHERE id = ?', [id]);
}

function quoteIdentifier(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** Connects to the server named by `url` without selecting its database (which may not exist yet). */
export async function pingServer(url: string): Promise<void> {
  const { database: _database, ...server } = poolConfigFromUrl(url);
  const conn = await createConnection(server);
  await conn.end();
}
