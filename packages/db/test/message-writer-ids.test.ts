import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'mariadb';
import { createMessageWriter, type NewChatMessage, type WriteResult } from '../src/index.ts';
import { poolConfigFromUrl } from '../src/connection-options.ts';
import { applyMigrations } from '../src/migrate.ts';
import { privateMariaDbUnavailable, startPrivateMariaDb, type PrivateMariaDb } from './private-mariadb.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

const USERS = ['bbbbbbbbb1', 'bbbbbbbbb2', 'bbbbbbbbb3', 'bbbbbbbbb4'];
const CONVERSATIONS = ['c-a', 'c-b', 'c-c', 'group'];
const WRITERS = 4;
const MESSAGES = 800;

/**
 * Several writers (gateways) store interleaved batches into the same and different conversations
 * at once; every id a writer answers must be the id of the row it stored, and within each
 * conversation ids must grow with seq — whatever auto-increment mode the server runs in.
 */
async function writeConcurrently(url: string): Promise<void> {
  const conn = await createConnection(poolConfigFromUrl(url));
  try {
    await conn.batch(
      "INSERT INTO users (user_id, email, username, password_hash, avatar, updated_at) VALUES (?, ?, ?, 'x', 'a', NOW(3))",
      USERS.map((id, i) => [id, `ids${i}@example.com`, `ids${i}`]),
    );
  } finally {
    await conn.end();
  }
  // Small batches and several connections each, so batches of different writers overlap.
  const writers = Array.from({ length: WRITERS }, () => createMessageWriter({ url, connectionLimit: 3, maxBatch: 7 }));
  const sent: Array<Promise<WriteResult>> = [];
  const messageFor = (i: number): NewChatMessage => ({
    conversation: CONVERSATIONS[(i * 7 + Math.floor(i / 13)) % CONVERSATIONS.length]!,
    senderId: USERS[i % USERS.length]!,
    targetId: null,
    msgType: 4,
    content: `m${i}`,
    clientMsgId: i % 5 === 0 ? `k${i}` : null,
    fileId: null,
    onlineCount: 1,
  });
  for (let i = 0; i < MESSAGES; i += 1) {
    sent.push(writers[i % WRITERS]!.write(messageFor(i)));
    // Let some batches start while others are still being gathered.
    if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  const results = await Promise.all(sent);
  await Promise.all(writers.map((w) => w.close()));

  const check = await createConnection(poolConfigFromUrl(url));
  let rows: Array<{ id: bigint; seq: bigint; conversation: string; content: string }>;
  try {
    rows = await check.query('SELECT id, seq, conversation, content FROM chat_messages ORDER BY conversation, seq');
  } finally {
    await check.end();
  }
  assert.equal(rows.length, MESSAGES, 'every message stored once');
  const byContent = new Map(rows.map((row) => [row.content, row]));
  results.forEach((result, i) => {
    assert.equal(result.duplicate, false, `m${i} is not a resend`);
    if (result.duplicate) return;
    const row = byContent.get(`m${i}`)!;
    assert.equal(result.id, BigInt(row.id), `m${i}: the id answered is the id stored`);
    assert.equal(result.seq, Number(row.seq), `m${i}: the seq answered is the seq stored`);
  });
  for (const conversation of CONVERSATIONS) {
    const ofConversation = rows.filter((row) => row.conversation === conversation);
    assert.deepEqual(ofConversation.map((row) => Number(row.seq)), ofConversation.map((_, i) => i + 1), `${conversation}: seqs 1..n`);
    for (let i = 1; i < ofConversation.length; i += 1) {
      assert.ok(ofConversation[i]!.id > ofConversation[i - 1]!.id, `${conversation}: id of seq ${i + 1} after the id of seq ${i}`);
    }
  }
}

describe('message writer ids under concurrent writers', () => {
  const databases = testDatabases();
  after(() => databases.dropAll());

  it(`${WRITERS} writers, ${MESSAGES} messages over ${CONVERSATIONS.length} conversations: answered ids are the stored ones`, async () => {
    const { url } = databases.create();
    await applyMigrations(url, migrationsDir);
    await writeConcurrently(url);
  });
});

describe('message writer ids on a server with interleaved auto-increment and a step of 3', { skip: privateMariaDbUnavailable }, () => {
  let server: PrivateMariaDb;
  before(async () => {
    // innodb_autoinc_lock_mode is read-only on a running server (MySQL 8's default is 2); a step
    // of 3 is what Galera or group replication set: ids of one INSERT are never consecutive.
    server = await startPrivateMariaDb(['--innodb-autoinc-lock-mode=2', '--auto-increment-increment=3', '--auto-increment-offset=2']);
  });
  after(() => server?.stop());

  it('answers the stored ids there too', async () => {
    const url = server.urlFor('im_writer_ids');
    await applyMigrations(url, migrationsDir);
    const conn = await createConnection(poolConfigFromUrl(url));
    try {
      const [settings] = await conn.query('SELECT @@innodb_autoinc_lock_mode AS mode, @@auto_increment_increment AS step');
      assert.deepEqual([Number(settings.mode), Number(settings.step)], [2, 3], 'the server runs with the settings under test');
    } finally {
      await conn.end();
    }
    await writeConcurrently(url);
  });
});
