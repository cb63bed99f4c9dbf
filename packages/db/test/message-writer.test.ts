import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDb, createMessageWriter, type Db, type NewChatMessage } from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

describe('message writer', () => {
  const databases = testDatabases();
  let url: string;
  let db: Db;
  const users = ['aaaaaaaaa1', 'aaaaaaaaa2', 'aaaaaaaaa3'];

  before(async () => {
    ({ url } = databases.create());
    await applyMigrations(url, migrationsDir);
    db = createDb({ url, connectionLimit: 2 });
    await db.user.createMany({
      data: users.map((userId, i) => ({ userId, email: `w${i}@example.com`, username: `w${i}`, passwordHash: 'x', avatar: 'a' })),
    });
  });
  after(async () => {
    await db.$disconnect();
    await databases.dropAll();
  });

  const message = (conversation: string, content: string, senderId = users[0]!, clientMsgId: string | null = null): NewChatMessage => ({
    conversation,
    senderId,
    targetId: null,
    msgType: 4,
    content,
    clientMsgId,
    fileId: null,
    onlineCount: 1,
  });

  it('two writers (two gateways) writing one conversation at once: seqs 1..n without gaps, ids in seq order', async () => {
    const writers = [createMessageWriter({ url }), createMessageWriter({ url })];
    const conversations = ['c-one', 'c-two', 'c-three'];
    await Promise.all(
      Array.from({ length: 600 }, (_, i) => writers[i % 2]!.write(message(conversations[i % 3]!, `m${i}`, users[i % 3]!))),
    );
    await Promise.all(writers.map((w) => w.close()));
    for (const conversation of conversations) {
      const rows = await db.chatMessage.findMany({ where: { conversation }, orderBy: { id: 'asc' } });
      assert.equal(rows.length, 200);
      assert.deepEqual(rows.map((r) => Number(r.seq)), Array.from({ length: 200 }, (_, i) => i + 1), conversation);
      const row = await db.conversation.findUnique({ where: { conversation } });
      assert.equal(Number(row!.lastSeq), 200);
    }
  });

  it('moves the conversation’s activity time (the inbox’s order) to its newest message’s time, never back', async () => {
    const writer = createMessageWriter({ url });
    const first = await writer.write(message('c-activity', 'one'));
    const second = await writer.write(message('c-activity', 'two'));
    await writer.close();
    assert.ok(!first.duplicate && !second.duplicate);
    const row = await db.conversation.findUniqueOrThrow({ where: { conversation: 'c-activity' } });
    assert.equal(row.lastActivityAt.getTime(), second.createdAt.getTime());
  });

  it('answers what it stored: id, seq and the time, as Prisma reads them back', async () => {
    const writer = createMessageWriter({ url });
    const before = Date.now();
    const result = await writer.write(message('c-time', '时间'));
    await writer.close();
    assert.equal(result.duplicate, false);
    if (result.duplicate) return;
    const row = await db.chatMessage.findUniqueOrThrow({ where: { id: result.id } });
    assert.equal(Number(row.seq), result.seq);
    assert.equal(row.content, '时间');
    assert.equal(row.createdAt.getTime(), result.createdAt.getTime());
    assert.ok(Math.abs(row.createdAt.getTime() - before) < 5_000, 'stored in UTC');
  });

  it('a repeated client_msg_id is stored once, inside a batch and across writers', async () => {
    const writers = [createMessageWriter({ url }), createMessageWriter({ url })];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => writers[i % 2]!.write(message('c-dup', `copy ${i}`, users[1]!, 'same-id'))),
    );
    await Promise.all(writers.map((w) => w.close()));
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal(await db.chatMessage.count({ where: { conversation: 'c-dup' } }), 1);
    const again = createMessageWriter({ url });
    const later = await again.write(message('c-dup', 'later', users[1]!, 'same-id'));
    await again.close();
    assert.deepEqual([later.duplicate, later.id], [true, results[0]!.id]);
  });

  it('a resend sharing a batch with new messages: the new ones follow without a gap in seq', async () => {
    const first = createMessageWriter({ url });
    const original = await first.write(message('c-mixed', 'one', users[2]!, 'mixed-1'));
    await first.close();
    const writer = createMessageWriter({ url });
    // Same tick, one batch: the lookup finds the resend after the bump, so the bump is undone.
    const [resend, two, three] = await Promise.all([
      writer.write(message('c-mixed', 'one again', users[2]!, 'mixed-1')),
      writer.write(message('c-mixed', 'two', users[2]!, 'mixed-2')),
      writer.write(message('c-mixed', 'three')),
    ]);
    await writer.close();
    assert.deepEqual([resend!.duplicate, resend!.id], [true, original.id]);
    assert.deepEqual([two!.duplicate, three!.duplicate], [false, false]);
    const rows = await db.chatMessage.findMany({ where: { conversation: 'c-mixed' }, orderBy: { id: 'asc' } });
    assert.deepEqual(rows.map((r) => [r.content, Number(r.seq)]), [['one', 1], ['two', 2], ['three', 3]]);
    const conversation = await db.conversation.findUnique({ where: { conversation: 'c-mixed' } });
    assert.equal(Number(conversation!.lastSeq), 3);
  });

  it('a failing message fails alone, and writes nothing', async () => {
    const writer = createMessageWriter({ url });
    // Written in the same tick, so they share a batch.
    const [bad, ok] = await Promise.allSettled([
      writer.write(message('c-bad', 'who?', 'ffffffffff')),
      writer.write(message('c-bad', 'fine')),
    ]);
    await writer.close();
    assert.equal(bad.status, 'rejected');
    assert.equal(ok.status, 'fulfilled');
    const rows = await db.chatMessage.findMany({ where: { conversation: 'c-bad' } });
    assert.deepEqual(rows.map((r) => [r.content, Number(r.seq)]), [['fine', 1]]);
  });
});
