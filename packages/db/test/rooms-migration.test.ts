// The rooms-and-inbox migration adds tables and also fills them from what a running deployment
// already has. This applies it to a database that holds Part 1 data, as an upgrade would.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { applyMigrations } from '../src/migrate.ts';
import { connectServer, migrationsDir, testDatabases } from './test-database.ts';

const databases = testDatabases();
const scratch = mkdtempSync(join(tmpdir(), 'im-migrations-'));
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await databases.dropAll();
});

test('upgrading a Part 1 database dates conversations, pairs private chats and files every upload under its conversation', async () => {
  cpSync(join(migrationsDir, '20261123230000_init'), join(scratch, '20261123230000_init'), { recursive: true });
  const db = databases.create();
  await applyMigrations(db.url, scratch);

  const [a, b, c] = ['a000000001', 'b000000002', 'c000000003'];
  const ab = `p:${a}:${b}`;
  const conn = await connectServer();
  try {
    await conn.query(`USE \`${db.name}\``);
    for (const id of [a, b, c]) {
      await conn.query("INSERT INTO users (user_id, email, username, password_hash, avatar, updated_at) VALUES (?, ?, ?, 'x', 'a', NOW(3))", [id, `${id}@x.io`, id]);
    }
    const messages: Array<[string, number, string, string | null, string]> = [
      ['group', 1, a, null, '2026-01-01 10:00:00.000'],
      [ab, 1, b, a, '2026-01-02 10:00:00.000'],
      ['group', 2, c, null, '2026-01-03 10:00:00.000'],
      [ab, 2, a, b, '2026-01-04 10:00:00.000'],
    ];
    for (const [conversation, seq, sender, target, at] of messages) {
      await conn.query(
        "INSERT INTO chat_messages (seq, conversation, sender_id, target_id, msg_type, content, created_at) VALUES (?, ?, ?, ?, 4, 'x', ?)",
        [seq, conversation, sender, target, at],
      );
    }
    await conn.query("INSERT INTO conversations (conversation, last_seq) VALUES ('group', 2), (?, 2)", [ab]);
    await conn.query(
      `INSERT INTO files (file_name, original_name, owner_id, target_id, size, mime_type, file_type, storage_key)
       VALUES ('g.txt', 'g.txt', ?, NULL, 1, 'text/plain', 'txt', 'k1'), ('p.txt', 'p.txt', ?, ?, 1, 'text/plain', 'txt', 'k2')`,
      [c, b, a],
    );

    const result = await applyMigrations(db.url, migrationsDir);
    // The Part 2 migration runs first; later ones (token revocations, …) follow it.
    assert.equal(result.applied[0], '20261203100000_rooms_and_inbox');

    const conversations = await conn.query('SELECT conversation, CAST(last_activity_at AS CHAR) AS at FROM conversations ORDER BY conversation');
    assert.deepEqual(conversations, [
      { conversation: 'group', at: '2026-01-03 10:00:00.000' },
      { conversation: ab, at: '2026-01-04 10:00:00.000' },
    ]);
    const members = await conn.query(
      'SELECT conversation, user_id, peer_id, role, CAST(joined_at AS CHAR) AS joined, CAST(last_read_id AS CHAR) AS last_read FROM conversation_members ORDER BY user_id',
    );
    assert.deepEqual(members, [
      { conversation: ab, user_id: a, peer_id: b, role: null, joined: '2026-01-02 10:00:00.000', last_read: '0' },
      { conversation: ab, user_id: b, peer_id: a, role: null, joined: '2026-01-02 10:00:00.000', last_read: '0' },
    ]);
    const files = await conn.query('SELECT file_name, conversation FROM files ORDER BY file_name');
    assert.deepEqual(files, [
      { file_name: 'g.txt', conversation: 'group' },
      { file_name: 'p.txt', conversation: ab },
    ]);
  } finally {
    await conn.end();
  }
});
