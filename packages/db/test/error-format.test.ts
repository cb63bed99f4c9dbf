import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDb, type Db } from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

/**
 * Whoever logs a failed query logs its message. Prisma's default message quotes the calling
 * source lines with their file path (a failing gateway tail check logged them, when the gateway
 * still read through Prisma); createDb's client says what failed and nothing about the code
 * around the call.
 */
describe('Prisma error messages', () => {
  const databases = testDatabases();
  let db: Db;

  before(async () => {
    const { url } = databases.create();
    await applyMigrations(url, migrationsDir);
    db = createDb({ url, connectionLimit: 1 });
    await db.user.create({ data: { userId: 'eeeeeeee01', email: 'e@example.com', username: 'e', passwordHash: 'x', avatar: 'a' } });
  });
  after(async () => {
    await db.$disconnect();
    await databases.dropAll();
  });

  const problems = (err: Error) =>
    [
      /\.ts:\d+:\d+/.test(err.message) && 'names a source file and line',
      /invocation in/.test(err.message) && 'says where it was invoked',
      /^\s*\d+\s*\|/m.test(err.message) && 'quotes source lines',
      /→/.test(err.message) && 'points at a source line',
    ].filter(Boolean);

  it('a query MySQL refuses (duplicate key) is reported without the calling source', async () => {
    const err = await db.user
      .create({ data: { userId: 'eeeeeeee02', email: 'e@example.com', username: 'e2', passwordHash: 'x', avatar: 'a' } })
      .then(() => assert.fail('the duplicate email was stored'), (e: Error) => e);
    assert.deepEqual(problems(err), [], err.message);
  });

  it('a query Prisma refuses before sending it (a bad argument) is reported without the calling source', async () => {
    const err = await db.user.findMany({ where: { userId: 5 as unknown as string } }).then(
      () => assert.fail('the bad argument was accepted'),
      (e: Error) => e,
    );
    assert.deepEqual(problems(err), [], err.message);
  });
});
