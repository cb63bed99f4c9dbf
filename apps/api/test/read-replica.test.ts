import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'mariadb';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAll } from './support/accounts.ts';
import { MessageStore } from './support/messages.ts';
import { mariaDbServerUnavailable } from '../../../test/support/mariadb-server.ts';
import { startReplication, type TestReplication } from '../../../test/support/mariadb-replication.ts';

const DATABASE = 'im_replica_test';
/** What the replica's copy of bob's name is changed to: a page that shows it was read there. */
const REPLICA_NAME = 'bob_on_replica';

/**
 * `mysql.replica_url` against a real replica: a private primary with its binlog and a second
 * mariadbd replicating from it (GTID). History pages and the inbox are served by the replica once
 * it has everything the primary had committed; a lagging replica leaves the read to the primary.
 */
describe('history and the inbox on a read replica', { skip: mariaDbServerUnavailable }, () => {
  let replication: TestReplication;
  let api: TestApi;
  let store: MessageStore;
  let ann: { token: string };
  let bob: { token: string; user: { user_id: string; user_name: string } };

  const latest = async (limit = 20) => {
    const answer = await call(api.url, `/api/conversations/group/messages?limit=${limit}`, { token: ann.token });
    assert.equal(answer.code, 0, answer.msg);
    return answer.data as { count: number; list: Array<Record<string, unknown> & { id: number; content: string }> };
  };
  const inboxGroup = async () => {
    const answer = await call(api.url, '/api/conversations', { token: ann.token });
    assert.equal(answer.code, 0, answer.msg);
    return (answer.data as { list: Array<{ conversation: string; last_message: Record<string, unknown> | null }> }).list.find(
      (item) => item.conversation === 'group',
    )!;
  };
  const fromReplica = (frame: unknown) => JSON.stringify(frame).includes(REPLICA_NAME);
  const primaryIds = async () => {
    const conn = await createConnection({ host: '127.0.0.1', port: replication.primary.port, user: 'root', database: DATABASE });
    try {
      const rows: Array<{ id: bigint }> = await conn.query("SELECT id FROM chat_messages WHERE conversation = 'group' ORDER BY id");
      return rows.map((row) => Number(row.id));
    } finally {
      await conn.end();
    }
  };

  before(async () => {
    replication = await startReplication();
    api = await startApi({ databaseUrl: replication.primary.databaseUrl(DATABASE), replicaUrl: replication.replica.databaseUrl(DATABASE) });
    store = new MessageStore(api.config.mysql.url, api.sql);
    [ann, bob] = await registerAll(api, ['ann', 'bob']);
    await store.send('group', bob.user.user_id, 'first');
    await replication.waitCaughtUp();
    // The replica's copy diverges in one field nobody writes again, so a test can tell which
    // server answered; IDEMPOTENT keeps replication going should the primary touch that row.
    await replication.onReplica(
      "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'",
      `UPDATE ${DATABASE}.users SET username = '${REPLICA_NAME}' WHERE user_id = '${bob.user.user_id}'`,
    );
  });
  after(async () => {
    await store?.close();
    await api?.close();
    await replication?.stop();
  });

  it('serves history pages and the inbox from the replica once it has caught up', async () => {
    await store.send('group', bob.user.user_id, 'second');
    await replication.waitCaughtUp();
    const page = await latest();
    assert.deepEqual(page.list.map((frame) => frame.content), ['first', 'second']);
    assert.ok(page.list.every(fromReplica), `read on the replica: ${JSON.stringify(page.list[0])}`);
    const group = await inboxGroup();
    assert.equal(group.last_message?.content, 'second');
    assert.ok(fromReplica(group.last_message), 'the inbox was read on the replica');
  });

  it('a replica that stopped applying never shows a gap: the primary serves the page', async () => {
    await replication.onReplica('STOP SLAVE SQL_THREAD');
    try {
      await store.send('group', bob.user.user_id, 'while the replica lags');
      const page = await latest();
      assert.equal(page.list.at(-1)?.content, 'while the replica lags');
      assert.equal(page.count, 3);
      assert.ok(!page.list.some(fromReplica), 'read on the primary');
      const group = await inboxGroup();
      assert.equal(group.last_message?.content, 'while the replica lags');
      assert.ok(!fromReplica(group.last_message), 'the inbox was read on the primary');
    } finally {
      await replication.onReplica('START SLAVE SQL_THREAD');
    }
  });

  it('under write load every page reaches the head the primary had when it was asked, with no hole', async () => {
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n += 1) await store.send('group', bob.user.user_id, `load ${n}`);
    })();
    const pages: Array<{ head: number; ids: number[]; replica: boolean }> = [];
    try {
      for (let i = 0; i < 40; i += 1) {
        const head = (await primaryIds()).at(-1)!;
        const page = await latest(10);
        pages.push({ head, ids: page.list.map((frame) => frame.id), replica: page.list.some(fromReplica) });
      }
    } finally {
      writing = false;
      await writer;
    }
    const stored = await primaryIds();
    for (const { head, ids } of pages) {
      assert.ok(ids.at(-1)! >= head, `a page ending at ${ids.at(-1)} while the primary had ${head}`);
      const expected = stored.filter((id) => id >= ids[0]! && id <= ids.at(-1)!);
      assert.deepEqual(ids, expected, 'a page holds every stored message of its range');
    }
    const onReplica = pages.filter((page) => page.replica).length;
    console.log(`under load: ${onReplica} of ${pages.length} pages from the replica, the rest from the primary`);
  });
});
