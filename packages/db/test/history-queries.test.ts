import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  countMessages,
  createDb,
  createHistoryReader,
  findHistory,
  findMessagePage,
  messageWithPeople,
  messagesAfterId,
  type Db,
  type HistoryReader,
  type MessageFilter,
  type MessageWindow,
  type Prisma,
} from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

// Usernames sort zed-less: amy < bob < cat < dan, user ids in another order on purpose.
const USERS = [
  { userId: 'cccccccc03', username: 'amy' },
  { userId: 'aaaaaaaa01', username: 'bob' },
  { userId: 'dddddddd04', username: 'cat' },
  { userId: 'bbbbbbbb02', username: 'dan' },
];
const [AMY, BOB, CAT, DAN] = USERS.map((u) => u.userId) as [string, string, string, string];
const pair = (a: string, b: string) => (a < b ? `p:${a}:${b}` : `p:${b}:${a}`);
const AMY_BOB = pair(AMY, BOB);
const AMY_CAT = pair(AMY, CAT);
const BOB_DAN = pair(BOB, DAN);
const GROUP_ROWS = 3000;

describe('history queries', () => {
  const databases = testDatabases();
  let db: Db;
  /** One connection, so SHOW SESSION STATUS sees the queries of the test. */
  let single: Db;
  let reader: HistoryReader;
  let fileId: bigint;

  before(async () => {
    const { url } = databases.create();
    await applyMigrations(url, migrationsDir);
    db = createDb({ url, connectionLimit: 3 });
    single = createDb({ url, connectionLimit: 1 });
    reader = createHistoryReader({ url, connectionLimit: 2 });
    await db.user.createMany({
      data: USERS.map((u) => ({ ...u, email: `${u.username}@example.com`, passwordHash: 'x', avatar: `uploads/avatar/${u.userId}.png` })),
    });
    const file = await db.file.create({
      data: { fileName: '1-a.pdf', originalName: 'a.pdf', ownerId: AMY, targetId: BOB, size: 42n, mimeType: 'application/pdf', fileType: 'pdf', storageKey: 'k' },
    });
    fileId = file.id;
    // Interleaved as real traffic: mostly group, some private, a file message and client ids.
    const seqs = new Map<string, bigint>();
    const rows: Prisma.ChatMessageCreateManyInput[] = [];
    for (let n = 0; n < GROUP_ROWS + 1200; n++) {
      let conversation = 'group';
      let senderId = USERS[n % 4]!.userId;
      let targetId: string | null = null;
      if (n % 7 === 3) [conversation, senderId, targetId] = n % 2 ? [AMY_BOB, AMY, BOB] : [AMY_BOB, BOB, AMY];
      else if (n % 7 === 5) [conversation, senderId, targetId] = [AMY_CAT, CAT, AMY];
      else if (n % 7 === 6 && n % 3 === 0) [conversation, senderId, targetId] = [BOB_DAN, DAN, BOB];
      const seq = (seqs.get(conversation) ?? 0n) + 1n;
      seqs.set(conversation, seq);
      rows.push({
        seq,
        conversation,
        senderId,
        targetId,
        msgType: n === 10 ? 5 : 4,
        content: `m${n}`,
        clientMsgId: n % 11 === 0 ? `c${n}` : null,
        fileId: n === 10 ? fileId : null,
        onlineCount: n % 5,
      });
    }
    await db.chatMessage.createMany({ data: rows });
    await db.conversation.createMany({ data: [...seqs].map(([conversation, lastSeq]) => ({ conversation, lastSeq })) });
    // Fresh statistics, as a long-running database has them: the optimizer's choices depend on them.
    await db.$executeRawUnsafe('ANALYZE TABLE chat_messages');
  });
  after(async () => {
    await reader.close();
    await single.$disconnect();
    await db.$disconnect();
    await databases.dropAll();
  });

  /** The same page through Prisma's query builder: what the raw query must equal. */
  function reference(where: Prisma.ChatMessageWhereInput, window: MessageWindow, limit: number) {
    switch (window.kind) {
      case 'after':
        return db.chatMessage.findMany({ where: { AND: [where, { id: { gt: window.afterId } }] }, orderBy: { id: 'asc' }, take: limit, include: messageWithPeople });
      case 'before':
        return db.chatMessage.findMany({ where: { AND: [where, { id: { lt: window.beforeId } }] }, orderBy: { id: 'desc' }, take: limit, include: messageWithPeople });
      case 'offset':
        return db.chatMessage.findMany({
          where,
          orderBy: window.orderBy === 'username' ? [{ sender: { username: window.direction } }, { id: window.direction }] : [{ id: window.direction }],
          skip: window.offset,
          take: limit,
          include: messageWithPeople,
        });
    }
  }

  const filters: Array<[string, MessageFilter, Prisma.ChatMessageWhereInput]> = [
    ['group', { conversation: 'group' }, { conversation: 'group' }],
    ['group by one sender', { conversation: 'group', senderId: CAT }, { conversation: 'group', senderId: CAT }],
    ['one private conversation', { conversation: AMY_BOB }, { conversation: AMY_BOB }],
    ['every private message of a user', { privateOf: BOB }, { OR: [{ senderId: BOB, targetId: { not: null } }, { targetId: BOB }] }],
    ['an empty conversation', { conversation: 'p:nobody:nobody' }, { conversation: 'p:nobody:nobody' }],
  ];

  it('every filter and window gives exactly what Prisma gives: rows, order, people and file', async () => {
    const ids = (await db.chatMessage.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((r) => r.id);
    const middle = ids[Math.floor(ids.length / 2)]!;
    const windows: MessageWindow[] = [
      { kind: 'after', afterId: 0n },
      { kind: 'after', afterId: middle },
      { kind: 'after', afterId: ids.at(-1)! },
      { kind: 'before', beforeId: middle },
      { kind: 'before', beforeId: ids[3]! },
      { kind: 'before', beforeId: 2n ** 64n - 1n },
      { kind: 'offset', offset: 0, orderBy: 'id', direction: 'desc' },
      { kind: 'offset', offset: 980, orderBy: 'id', direction: 'desc' },
      { kind: 'offset', offset: 40, orderBy: 'id', direction: 'asc' },
      { kind: 'offset', offset: 5000, orderBy: 'id', direction: 'asc' },
      { kind: 'offset', offset: 0, orderBy: 'username', direction: 'asc' },
      { kind: 'offset', offset: 1000, orderBy: 'username', direction: 'desc' },
    ];
    let compared = 0;
    for (const [label, filter, where] of filters) {
      for (const window of windows) {
        for (const limit of [1, 20, 100]) {
          const got = await findMessagePage(db, filter, window, limit);
          const want = await reference(where, window, limit);
          const what = `${label}, ${JSON.stringify(window, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}, limit ${limit}`;
          assert.deepEqual(got, want, what);
          // The page with its total (one statement for a whole conversation) is the same page.
          const withCount = { count: await countMessages(db, filter), messages: want };
          assert.deepEqual(await findHistory(db, filter, window, limit), withCount, what);
          // And the same through the API's own mariadb pool.
          assert.deepEqual(await reader.findHistory(filter, window, limit), withCount, `reader: ${what}`);
          compared += got.length;
        }
      }
    }
    assert.ok(compared > 2_000, 'the comparison saw rows');
    const [withFile] = await findMessagePage(db, { conversation: AMY_BOB }, { kind: 'after', afterId: ids[9]! }, 1);
    assert.equal(withFile!.file?.id, fileId, 'the file row is joined');
  });

  it('counts: last_seq for a whole conversation, COUNT(*) for a sender or across peers', async () => {
    for (const [label, filter, where] of filters) {
      assert.equal(await countMessages(db, filter), await db.chatMessage.count({ where }), label);
    }
    // A whole conversation is read from conversations.last_seq, not from the rows.
    await db.conversation.update({ where: { conversation: AMY_CAT }, data: { lastSeq: 123_456n } });
    try {
      assert.equal(await countMessages(db, { conversation: AMY_CAT }), 123_456);
    } finally {
      const lastSeq = BigInt(await db.chatMessage.count({ where: { conversation: AMY_CAT } }));
      await db.conversation.update({ where: { conversation: AMY_CAT }, data: { lastSeq } });
    }
  });

  it('messagesAfterId is the catch-up page of one conversation, oldest first', async () => {
    const all = await db.chatMessage.findMany({ where: { conversation: AMY_BOB }, orderBy: { id: 'asc' }, include: messageWithPeople });
    assert.deepEqual(await messagesAfterId(db, AMY_BOB, all[10]!.id, 5), all.slice(11, 16));
  });

  it('a cursor page reads about `limit` index entries, however deep the cursor is', async () => {
    // MariaDB's own choice for `conversation = ? AND id < ? ORDER BY id DESC` was a ref scan from
    // the newest row, reading every row above the cursor; the handler counters show what was read.
    const ids = (await db.chatMessage.findMany({ where: { conversation: 'group' }, select: { id: true }, orderBy: { id: 'asc' } })).map((r) => r.id);
    const reads = async (filter: MessageFilter, window: MessageWindow) => {
      const before = await handlerReads(single);
      await findMessagePage(single, filter, window, 20);
      return (await handlerReads(single)) - before;
    };
    const cursors = [ids[100]!, ids[Math.floor(ids.length / 3)]!, ids[Math.floor(ids.length / 2)]!, ids.at(-100)!];
    for (const [filter, label] of [
      [{ conversation: 'group' }, 'group'],
      [{ conversation: 'group', senderId: BOB }, 'group by sender'],
    ] as const) {
      for (const window of cursors.flatMap((id) => [
        { kind: 'before', beforeId: id } as const,
        { kind: 'after', afterId: id } as const,
      ])) {
        const read = await reads(filter, window);
        assert.ok(read < 200, `${label} ${window.kind} ${window.kind === 'before' ? window.beforeId : window.afterId}: ${read} handler reads`);
      }
    }
  });
});

/** Rows the storage engine handed to the server on this connection so far. */
async function handlerReads(db: Db): Promise<number> {
  const rows = await db.$queryRaw<Array<{ Variable_name: string; Value: string }>>`SHOW SESSION STATUS LIKE 'Handler_read%'`;
  return rows.reduce((sum, row) => sum + Number(row.Value), 0);
}
