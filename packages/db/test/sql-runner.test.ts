import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlRunner, DeadlineError, type SqlRunner } from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

describe('sql runner', () => {
  const databases = testDatabases();
  let url: string;
  let sql: SqlRunner;

  before(async () => {
    ({ url } = databases.create());
    await applyMigrations(url, migrationsDir);
    sql = createSqlRunner({ url, connectionLimit: 2, deadlineMs: 400 });
    await sql.query('CREATE TABLE scratch (id INT PRIMARY KEY, n INT NOT NULL)');
    await sql.query('INSERT INTO scratch VALUES (1, 0), (2, 0)');
  });
  after(async () => {
    await sql.close();
    await databases.dropAll();
  });

  it('gives up on a statement past the deadline, and the pool keeps serving', async () => {
    await assert.rejects(sql.query('SELECT SLEEP(5)'), (err: unknown) => err instanceof DeadlineError && (err as DeadlineError).code === 'ETIMEDOUT');
    // Both connections of the pool still answer (the timed-out one was replaced).
    const answers = await Promise.all([sql.query('SELECT 1 AS one'), sql.query('SELECT 2 AS two')]);
    assert.deepEqual(answers.map((rows) => Object.values(rows[0])[0]), [1, 2]);
  });

  it('commits a transaction, and rolls it back when the work throws or runs out of time', async () => {
    await sql.transaction((tx) => tx.query('UPDATE scratch SET n = 1 WHERE id = 1'));
    await assert.rejects(
      sql.transaction(async (tx) => {
        await tx.query('UPDATE scratch SET n = 2 WHERE id = 1');
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await assert.rejects(
      sql.transaction(async (tx) => {
        await tx.query('UPDATE scratch SET n = 3 WHERE id = 1');
        await tx.query('SELECT SLEEP(5)');
      }),
      DeadlineError,
    );
    const [row] = await sql.query('SELECT n FROM scratch WHERE id = 1');
    assert.equal(row.n, 1);
  });

  it('runs a transaction again when InnoDB picked it as a deadlock victim', async () => {
    const roomy = createSqlRunner({ url, connectionLimit: 2, deadlineMs: 5_000 });
    try {
      let release!: () => void;
      const bothLocked = new Promise<void>((resolve) => (release = resolve));
      let firstLocked!: () => void;
      const firstHasRow1 = new Promise<void>((resolve) => (firstLocked = resolve));
      const attempts = { first: 0, second: 0 };
      const first = roomy.transaction(async (tx) => {
        attempts.first++;
        await tx.query('UPDATE scratch SET n = n + 10 WHERE id = 1');
        firstLocked();
        await bothLocked;
        await tx.query('UPDATE scratch SET n = n + 10 WHERE id = 2');
      });
      const second = roomy.transaction(async (tx) => {
        attempts.second++;
        if (attempts.second === 1) await firstHasRow1;
        await tx.query('UPDATE scratch SET n = n + 100 WHERE id = 2');
        if (attempts.second === 1) release();
        await tx.query('UPDATE scratch SET n = n + 100 WHERE id = 1');
      });
      await Promise.all([first, second]);
      // One of them was rolled back and ran again; both changes landed exactly once.
      assert.equal(attempts.first + attempts.second, 3);
      const rows = await roomy.query('SELECT id, n FROM scratch ORDER BY id');
      assert.deepEqual(rows.map((r: { n: number }) => r.n), [111, 110]);
    } finally {
      await roomy.close();
    }
  });
});
