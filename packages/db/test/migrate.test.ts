// applyMigrations must leave `_prisma_migrations` exactly as `prisma migrate deploy` would, so an
// operator with Prisma's engine can take over the same database. These tests hold it to that.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import type { Connection } from 'mariadb';
import { applyMigrations, MigrationError, type MigrateResult } from '../src/migrate.ts';
import { connectServer, migrationsDir, testDatabases } from './test-database.ts';

// Read independently of readMigrations, so a bug there cannot hide here.
const migrationNames = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
  .map((entry) => entry.name)
  .sort();

const databases = testDatabases();
const tempDirs: string[] = [];

after(async () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await databases.dropAll();
});

/** A scratch copy of the real migrations folder that a test may add to or edit. */
function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'im-migrations-'));
  tempDirs.push(dir);
  cpSync(migrationsDir, dir, { recursive: true });
  return dir;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function withConnection<T>(database: string, body: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connectServer();
  try {
    await conn.query(`USE \`${database}\``);
    return await body(conn);
  } finally {
    await conn.end();
  }
}

function migrationRows(database: string): Promise<MigrationRow[]> {
  return withConnection(database, (conn) =>
    conn.query('SELECT * FROM `_prisma_migrations` ORDER BY migration_name, started_at, finished_at IS NULL DESC'),
  );
}

test('the repository has migrations to test', () => {
  assert.ok(migrationNames.length > 0, `no migration folders in ${migrationsDir}`);
});

test('a second run applies nothing', async () => {
  const db = databases.create();
  assert.deepEqual(await applyMigrations(db.url, migrationsDir), { applied: migrationNames, alreadyApplied: [], modified: [] });
  assert.deepEqual(await applyMigrations(db.url, migrationsDir), { applied: [], alreadyApplied: migrationNames, modified: [] });
  assert.equal((await migrationRows(db.name)).length, migrationNames.length);
});

// Prisma's MySQL DDL for its table (schema-engine sql-schema-connector, flavour/mysql.rs).
const PRISMA_MIGRATIONS_DDL = (table: string) => `CREATE TABLE ${table} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             DATETIME(3),
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          DATETIME(3),
    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

test("_prisma_migrations has Prisma's columns, types and keys", async () => {
  const db = databases.create();
  await applyMigrations(db.url, migrationsDir);
  await withConnection(db.name, async (conn) => {
    // Build Prisma's table next to ours and let the server describe both the same way.
    await conn.query(PRISMA_MIGRATIONS_DDL('prisma_reference'));
    const describe = async (table: string) => ({
      table: await conn.query('SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, table]),
      columns: await conn.query(
        `SELECT ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
        [db.name, table],
      ),
      indexes: await conn.query(
        `SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME
           FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
        [db.name, table],
      ),
    });
    const ours = await describe('_prisma_migrations');
    assert.equal(ours.columns.length, 8);
    assert.deepEqual(ours, await describe('prisma_reference'));
  });
});

test('each migration is recorded once, with the checksum of its file', async () => {
  const db = databases.create();
  await applyMigrations(db.url, migrationsDir);
  const rows = await migrationRows(db.name);
  assert.deepEqual(rows.map((row) => row.migration_name), migrationNames);
  for (const row of rows) {
    // Prisma hashes the file's bytes; sha256 of the raw file, not of any decoded form.
    const file = readFileSync(join(migrationsDir, row.migration_name, 'migration.sql'));
    assert.equal(row.checksum, createHash('sha256').update(file).digest('hex'), `checksum of ${row.migration_name}`);
    assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'id is a v4 UUID');
    assert.ok(row.finished_at instanceof Date, `${row.migration_name} has finished_at`);
    assert.ok(row.finished_at >= row.started_at, `${row.migration_name} finished after it started`);
    assert.equal(row.applied_steps_count, 1);
    assert.equal(row.rolled_back_at, null);
    assert.equal(row.logs, null);
  }
});

test('a failed migration is recorded and blocks later runs until it is marked rolled back', async () => {
  const db = databases.create();
  const dir = copyOfMigrations();
  const broken = '99990101000000_broken';
  mkdirSync(join(dir, broken));
  // The first statement succeeds and stays (MySQL DDL is not transactional), the second fails.
  writeFileSync(
    join(dir, broken, 'migration.sql'),
    'CREATE TABLE `broken_probe` (`id` INT NOT NULL PRIMARY KEY);\nINSERT INTO `no_such_table` VALUES (1);\n',
  );

  await assert.rejects(applyMigrations(db.url, dir), (err: unknown) => {
    assert.ok(err instanceof MigrationError, `expected a MigrationError, got ${String(err)}`);
    assert.match(err.message, new RegExp(broken));
    return true;
  });
  const failed = (await migrationRows(db.name)).filter((row) => row.migration_name === broken);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.finished_at, null);
  assert.equal(failed[0]!.rolled_back_at, null);
  assert.equal(failed[0]!.applied_steps_count, 0);
  assert.match(failed[0]!.logs ?? '', /no_such_table/);

  // Fixing the file is not enough: like Prisma (P3009), nothing runs until someone resolves it.
  writeFileSync(join(dir, broken, 'migration.sql'), 'CREATE TABLE `broken_probe` (`id` INT NOT NULL PRIMARY KEY);\n');
  await assert.rejects(applyMigrations(db.url, dir), (err: unknown) => {
    assert.ok(err instanceof MigrationError);
    assert.match(err.message, new RegExp(`${broken}.*rolled_back_at`, 's'));
    return true;
  });

  // Resolve it the way the error says (what `prisma migrate resolve --rolled-back` does), after
  // undoing its partial effect; then the fixed migration is applied as a new attempt.
  await withConnection(db.name, async (conn) => {
    await conn.query('DROP TABLE `broken_probe`');
    await conn.query('UPDATE `_prisma_migrations` SET rolled_back_at = NOW(3) WHERE migration_name = ?', [broken]);
  });
  assert.deepEqual(await applyMigrations(db.url, dir), { applied: [broken], alreadyApplied: migrationNames, modified: [] });
  const attempts = (await migrationRows(db.name)).filter((row) => row.migration_name === broken);
  assert.deepEqual(
    attempts.map((row) => ({ finished: row.finished_at !== null, rolledBack: row.rolled_back_at !== null })),
    [
      { finished: false, rolledBack: true },
      { finished: true, rolledBack: false },
    ],
  );
});

test('an applied migration whose file changed is reported as modified, not re-run', async () => {
  const db = databases.create();
  const dir = copyOfMigrations();
  await applyMigrations(db.url, dir);
  const edited = migrationNames[0]!;
  appendFileSync(join(dir, edited, 'migration.sql'), '\n-- edited after it was applied\n');
  assert.deepEqual(await applyMigrations(db.url, dir), { applied: [], alreadyApplied: migrationNames, modified: [edited] });
});

// Prisma's script_matches_checksum also accepts the script with CRLF/LF swapped, because git
// rewrites line endings on checkout (core.autocrlf); that alone is not an edit.
test('a migration whose only change is its line endings is not reported as modified', async () => {
  const db = databases.create();
  const dir = copyOfMigrations();
  await applyMigrations(db.url, dir);
  const file = join(dir, migrationNames[0]!, 'migration.sql');
  const original = readFileSync(file, 'utf8');
  assert.ok(original.includes('\n') && !original.includes('\r\n'), 'expected a migration with LF line endings');
  writeFileSync(file, original.replace(/\n/g, '\r\n'));
  assert.deepEqual(await applyMigrations(db.url, dir), { applied: [], alreadyApplied: migrationNames, modified: [] });
});

test('two concurrent runs on a fresh database apply each migration exactly once', async () => {
  const db = databases.create();
  // Hold Prisma's lock so both runs are provably waiting for it at the same time; without the
  // lock both would find an empty history and apply everything twice.
  const holder = await connectServer();
  let runs: Promise<Array<PromiseSettledResult<MigrateResult>>> | undefined;
  try {
    const [held] = await holder.query("SELECT GET_LOCK('prisma_migrate', 60) AS locked");
    assert.equal(Number(held.locked), 1, 'could not take the prisma_migrate lock');
    // allSettled at once: a failing run must not become an unhandled rejection mid-test.
    runs = Promise.allSettled([applyMigrations(db.url, migrationsDir), applyMigrations(db.url, migrationsDir)]);
    await waitUntilWaitingForLock(holder, db.name, 2);
  } finally {
    await holder.query("SELECT RELEASE_LOCK('prisma_migrate')");
    await holder.end();
    // Never leave runs behind the test: they would race the `after` hook that drops the database.
    await runs;
  }
  const results = (await runs).map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
  assert.deepEqual(results.map((result) => result.applied.length).sort(), [0, migrationNames.length]);
  assert.deepEqual((await migrationRows(db.name)).map((row) => row.migration_name), migrationNames);
});

/** Polls the process list until `count` connections on `database` sit in GET_LOCK. */
async function waitUntilWaitingForLock(conn: Connection, database: string, count: number): Promise<void> {
  // Well inside the 10 s the runs themselves wait for the lock.
  const deadline = Date.now() + 8_000;
  for (;;) {
    const [row] = await conn.query(
      "SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT GET_LOCK%'",
      [database],
    );
    if (Number(row.waiting) === count) return;
    if (Date.now() > deadline) throw new Error(`only ${row.waiting} of ${count} runs reached GET_LOCK`);
    await sleep(20);
  }
}
