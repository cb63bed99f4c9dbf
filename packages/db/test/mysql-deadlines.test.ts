import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@im/config';
import {
  createDb,
  createHistoryReader,
  createMessageWriter,
  createChatReader,
  createRevocationLedger,
  DEFAULT_MYSQL_DEADLINES,
  isMysqlUnavailable,
  pingDb,
  type Db,
  type HistoryReader,
  type MessageWriter,
  type NewChatMessage,
  type ChatReader,
} from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir } from './test-database.ts';
import { startMariaDbServer, type TestMariaDbServer } from '../../../test/support/mariadb-server.ts';

/**
 * A MariaDB that stops answering (SIGSTOP: its TCP connections stay open) or is stopped must turn
 * every call of the request-path pools into an error within their deadlines, not a wait until it
 * comes back. Each "while frozen" assertion completes before the server is thawed. A private
 * server: the shared one on 3306 serves every other test file.
 */
describe('MySQL calls have deadlines', () => {
  let server: TestMariaDbServer;
  let db: Db;
  let writer: MessageWriter;
  let history: HistoryReader;
  let reader: ChatReader;
  let ledger: ReturnType<typeof createRevocationLedger>;
  const users = ['dddddddd01', 'dddddddd02'];

  before(async () => {
    server = await startMariaDbServer();
    const url = server.databaseUrl('im_deadlines');
    await applyMigrations(url, migrationsDir);
    db = createDb({ url, connectionLimit: 2 });
    writer = createMessageWriter({ url });
    history = createHistoryReader({ url });
    reader = createChatReader({ url, connectionLimit: 2 });
    ledger = createRevocationLedger({ url });
    await db.user.createMany({
      data: users.map((userId, i) => ({ userId, email: `d${i}@example.com`, username: `d${i}`, passwordHash: 'x', avatar: 'a' })),
    });
  });
  after(async () => {
    await server?.thaw();
    await Promise.allSettled([writer?.close(), history?.close(), reader?.close(), ledger?.close(), db?.$disconnect()]);
    await server?.stop();
  });

  const message = (content: string, clientMsgId: string | null = null): NewChatMessage => ({
    conversation: 'group',
    senderId: users[0]!,
    targetId: null,
    msgType: 4,
    content,
    clientMsgId,
    fileId: null,
    onlineCount: 1,
  });
  const stored = async () => (await db.chatMessage.findMany({ orderBy: { id: 'asc' } })).map((m) => m.content);

  /** What each call of every pool does while MySQL does not answer. */
  async function everyCall(): Promise<Array<PromiseSettledResult<unknown>>> {
    return Promise.allSettled([
      pingDb(db),
      db.user.findMany(),
      history.findHistory({ conversation: 'group' }, { kind: 'after', afterId: 0n }, 20),
      reader.users(users),
      reader.head('group'),
      ledger.has('some-jti'),
      // A batch: every message of it fails at once, none waits for the others to be retried one by one.
      ...Array.from({ length: 20 }, (_, i) => writer.write(message(`frozen-${i}`))),
      writer.write(message('resent', 'client-1')),
    ]);
  }

  it('uses the deadlines settings.yaml documents when the caller passes none', () => {
    const { connect_timeout_ms, acquire_timeout_ms, query_timeout_ms } = loadConfig({ env: {} }).mysql;
    assert.deepEqual(DEFAULT_MYSQL_DEADLINES, { connect_timeout_ms, acquire_timeout_ms, query_timeout_ms });
  });

  it('frozen: every call fails as "unavailable" while the server is still frozen; a resend with its client_msg_id is stored once after', async () => {
    await writer.write(message('before'));
    await server.freeze();
    let results;
    try {
      results = await everyCall();
    } finally {
      await server.thaw();
    }
    assertAllUnavailable(results);

    assert.deepEqual(await writer.write(message('after')).then((r) => r.duplicate), false);
    const resent = await writer.write(message('resent', 'client-1'));
    assert.equal(resent.duplicate, false, 'the frozen attempt stored nothing');
    assert.equal((await writer.write(message('resent', 'client-1'))).duplicate, true);
    assert.deepEqual(await stored(), ['before', 'after', 'resent']);
  });

  it('stopped: every call fails as "unavailable"; the same pools work again once it is back', async () => {
    await server.kill();
    let results;
    try {
      results = await everyCall();
    } finally {
      await server.restart();
    }
    assertAllUnavailable(results);
    await pingDb(db);
    assert.equal((await reader.users(users)).length, 2);
    assert.equal(await ledger.has('some-jti'), false);
    assert.equal((await history.findHistory({ conversation: 'group' }, { kind: 'after', afterId: 0n }, 20)).count, 3);
    assert.equal((await writer.write(message('back'))).duplicate, false);
  });
});

function assertAllUnavailable(results: Array<PromiseSettledResult<unknown>>): void {
  const problems = results.flatMap((result, i) => {
    if (result.status === 'fulfilled') return [`call ${i} answered while MySQL could not`];
    const err = result.reason as Error;
    return isMysqlUnavailable(err) ? [] : [`call ${i} failed otherwise: ${err?.name}: ${err?.message}`];
  });
  assert.deepEqual(problems, []);
}
