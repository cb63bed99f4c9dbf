import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createChatReader, createDb, createMessageWriter, messageWithPeople, toChatFrame, type ChatReader, type Db } from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

const [ANN, BEN] = ['aaaaaaaa10', 'bbbbbbbb20'];
const PAIR = `p:${ANN}:${BEN}`;

describe('chat reader', () => {
  const databases = testDatabases();
  let db: Db;
  let reader: ChatReader;
  const ids: bigint[] = [];
  let fileId: bigint;

  before(async () => {
    const { url } = databases.create();
    await applyMigrations(url, migrationsDir);
    db = createDb({ url, connectionLimit: 2 });
    reader = createChatReader({ url, connectionLimit: 2 });
    await db.user.createMany({
      data: [ANN, BEN].map((userId, i) => ({ userId, username: `reader${i}`, email: `r${i}@example.com`, passwordHash: 'x', avatar: `a/${userId}.png` })),
    });
    const file = await db.file.create({
      data: { fileName: '9-report.pdf', originalName: '报告.pdf', ownerId: ANN, targetId: BEN, size: 42n, mimeType: 'application/pdf', fileType: 'pdf', storageKey: 'k' },
    });
    fileId = file.id;
    const writer = createMessageWriter({ url, connectionLimit: 2 });
    for (let i = 0; i < 7; i += 1) {
      const written = await writer.write({
        conversation: i % 3 === 2 ? 'group' : PAIR,
        senderId: i % 2 ? BEN : ANN,
        targetId: i % 3 === 2 ? null : i % 2 ? ANN : BEN,
        msgType: i === 4 ? 5 : 4,
        content: `m${i} ✓`,
        clientMsgId: i === 1 ? 'c-1' : null,
        fileId: i === 4 ? fileId : null,
        onlineCount: i,
      });
      ids.push(written.id);
    }
    await writer.close();
  });
  after(async () => {
    await reader.close();
    await db.$disconnect();
    await databases.dropAll();
  });

  /** The frame bytes the API's history would show for these rows (Prisma read, toChatFrame). */
  async function expectedBytes(conversation: string): Promise<string[]> {
    const rows = await db.chatMessage.findMany({ where: { conversation }, orderBy: { seq: 'asc' }, include: messageWithPeople });
    return rows.map((row) => JSON.stringify(toChatFrame(row)));
  }

  it('reads frames by seq and after an id, byte for byte as history frames them, with seq and id', async () => {
    const expected = await expectedBytes(PAIR);
    const fromSeq = await reader.framesFromSeq(PAIR, 2, 3);
    assert.deepEqual(fromSeq.map((f) => f.seq), [2, 3, 4]);
    assert.deepEqual(fromSeq.map((f) => f.bytes.toString()), expected.slice(1, 4));
    const after = await reader.framesAfterId(PAIR, ids[0]!, 100);
    assert.deepEqual(after.map((f) => f.bytes.toString()), expected.slice(1));
    assert.deepEqual(after.map((f) => f.id), after.map((f) => JSON.parse(f.bytes.toString()).id));
    const withFile = after.find((f) => JSON.parse(f.bytes.toString()).file);
    assert.equal(JSON.parse(withFile!.bytes.toString()).file.original_name, '报告.pdf');
  });

  it('knows where conversations stand: head, last seqs, the seq through an id', async () => {
    const pairFrames = await reader.framesFromSeq(PAIR, 1, 100);
    assert.deepEqual(await reader.head(PAIR), { seq: pairFrames.length, id: pairFrames.at(-1)!.id });
    assert.deepEqual(await reader.head('nobody'), { seq: 0, id: 0 });
    assert.deepEqual(await reader.lastSeqs([PAIR, 'group', 'nobody']), new Map([[PAIR, pairFrames.length], ['group', 2]]));
    const heads = await reader.heads([PAIR, 'group', 'nobody']);
    assert.deepEqual(heads, new Map([[PAIR, await reader.head(PAIR)], ['group', await reader.head('group')]]));
    // ids[2] is a group message: the pair's newest message at or before it is its seq 2.
    assert.equal(await reader.seqThrough(PAIR, ids[2]!), 2);
    assert.equal(await reader.seqThrough(PAIR, 0n), 0);
  });

  it('scans private messages after an id, in id order, and knows the newest id', async () => {
    const pairFrames = await reader.framesFromSeq(PAIR, 1, 100);
    const newest = Math.max(...ids.map(Number));
    assert.equal(await reader.lastMessageId(), newest);
    const all = await reader.privateMessagesAfter(0, 100);
    // The group messages are left out; the pair's come in id order with their seqs.
    assert.deepEqual(all, pairFrames.map((f) => ({ conversation: PAIR, seq: f.seq, id: f.id })));
    assert.deepEqual(await reader.privateMessagesAfter(pairFrames[0]!.id, 2), all.slice(1, 3));
    assert.deepEqual(await reader.privateMessagesAfter(newest, 100), []);
    // The first of the pair's messages after an id, below a seq: what a new feed looks back for.
    assert.equal(await reader.firstSeqAfterId(PAIR, pairFrames[0]!.id, 4), 2);
    assert.equal(await reader.firstSeqAfterId(PAIR, pairFrames[0]!.id, 2), undefined);
    assert.equal(await reader.firstSeqAfterId(PAIR, newest, 100), undefined);
  });

  it('reads one message, a file and users', async () => {
    const one = await reader.frameById(ids[1]!);
    assert.equal(JSON.parse(one!.bytes.toString()).client_msg_id, 'c-1');
    assert.equal(await reader.frameById(999_999n), undefined);
    const byName = await reader.file({ name: '9-report.pdf' });
    assert.deepEqual(byName, await reader.file({ id: fileId }));
    assert.equal(byName!.ownerId, ANN);
    assert.equal(byName!.size, 42n);
    assert.equal(byName!.conversation, null, 'written without one, as before rooms');
    assert.equal(await reader.file({ name: 'missing.pdf' }), undefined);
    assert.deepEqual((await reader.users([BEN, 'ffffffffff'])).map((u) => u.username), ['reader1']);
    assert.deepEqual(await reader.users([]), []);
    await reader.ping();
  });
});
