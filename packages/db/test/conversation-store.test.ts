import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConversation, privateConversation, type ParsedConversation } from '@im/protocol';
import {
  createDb,
  createMessageWriter,
  createSqlRunner,
  ensurePrivateChat,
  inboxPage,
  insertRoom,
  moveReadCursor,
  nextOwner,
  privateChatsOf,
  roomConversationsOf,
  visibleConversations,
  deleteMember,
  setMemberRole,
  insertMembers,
  type Db,
  type MessageWriter,
  type SqlRunner,
} from '../src/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { migrationsDir, testDatabases } from './test-database.ts';

const [ANN, BOB, CAT, DAN, EVE] = ['a000000001', 'b000000002', 'c000000003', 'd000000004', 'e000000005'];
const ROOM_1 = 'aaaaaaaaaaa1';
const ROOM_2 = 'aaaaaaaaaaa2';
const R1 = `r:${ROOM_1}`;
const R2 = `r:${ROOM_2}`;
const conv = (id: string): ParsedConversation => parseConversation(id)!;

describe('memberships, read cursors and the inbox', () => {
  const databases = testDatabases();
  let db: Db;
  let sql: SqlRunner;
  /** One connection, so SHOW SESSION STATUS sees the inbox's statements. */
  let single: SqlRunner;
  let writer: MessageWriter;
  let clock = Date.parse('2026-12-01T00:00:00.000Z');

  /**
   * Stores a message as a gateway will: through the writer, the pair's membership rows for a
   * private chat, and the conversation's activity. The writer sets last_activity_at with its bump
   * on the gateway-core branch; until that lands here, this does what it will.
   */
  async function send(conversation: string, senderId: string, content = 'hi'): Promise<bigint> {
    const parsed = conv(conversation);
    const targetId = parsed.kind === 'private' ? parsed.userIds.find((id) => id !== senderId)! : null;
    if (targetId) await ensurePrivateChat(sql, senderId, targetId);
    const result = await writer.write({ conversation, senderId, targetId, msgType: 4, content, clientMsgId: null, fileId: null, onlineCount: 1 });
    clock += 1000;
    await sql.query('UPDATE conversations SET last_activity_at = ? WHERE conversation = ?', [new Date(clock).toISOString().replace('T', ' ').replace('Z', ''), conversation]);
    return result.id;
  }

  /** `count` messages from `senderId` at once (bulk, for volume), as `send` would leave them. */
  async function sendMany(conversation: string, senderId: string, count: number): Promise<void> {
    const parsed = conv(conversation);
    const targetId = parsed.kind === 'private' ? parsed.userIds.find((id) => id !== senderId)! : null;
    if (targetId) await ensurePrivateChat(sql, senderId, targetId);
    const last = (await db.conversation.findUnique({ where: { conversation } }))?.lastSeq ?? 0n;
    await db.chatMessage.createMany({
      data: Array.from({ length: count }, (_, i) => ({ seq: last + BigInt(i + 1), conversation, senderId, targetId, msgType: 4, content: `bulk ${i}` })),
    });
    clock += 1000;
    const lastSeq = last + BigInt(count);
    const lastActivityAt = new Date(clock);
    await db.conversation.upsert({ where: { conversation }, create: { conversation, lastSeq, lastActivityAt }, update: { lastSeq, lastActivityAt } });
  }

  before(async () => {
    const { url } = databases.create();
    await applyMigrations(url, migrationsDir);
    db = createDb({ url, connectionLimit: 2 });
    sql = createSqlRunner({ url, connectionLimit: 3 });
    single = createSqlRunner({ url, connectionLimit: 1 });
    writer = createMessageWriter({ url, connectionLimit: 2 });
    await db.user.createMany({
      data: [ANN, BOB, CAT, DAN, EVE].map((userId, i) => ({
        userId,
        email: `u${i}@example.com`,
        username: ['ann', 'bob', 'cat', 'dan', 'eve'][i]!,
        passwordHash: 'x',
        avatar: `uploads/avatar/${userId}.png`,
      })),
    });
    await sql.transaction((tx) => insertRoom(tx, { roomId: ROOM_1, name: 'One', ownerId: ANN, memberIds: [BOB, CAT], at: new Date(clock) }));
    await sql.transaction((tx) => insertRoom(tx, { roomId: ROOM_2, name: 'Two', ownerId: BOB, memberIds: [], at: new Date(clock) }));
  });
  after(async () => {
    await writer.close();
    await sql.close();
    await single.close();
    await db.$disconnect();
    await databases.dropAll();
  });

  it("makes a private chat's two rows once, whoever sends first", async () => {
    await ensurePrivateChat(sql, DAN, CAT);
    await ensurePrivateChat(sql, CAT, DAN);
    const rows = await db.conversationMember.findMany({ where: { conversation: privateConversation(CAT, DAN) }, orderBy: { userId: 'asc' } });
    assert.deepEqual(
      rows.map((row) => [row.userId, row.peerId, row.role, row.lastReadId]),
      [
        [CAT, DAN, null, 0n],
        [DAN, CAT, null, 0n],
      ],
    );
    await assert.rejects(ensurePrivateChat(sql, ANN, ANN), /two different users/);
  });

  it('shows a user group, their rooms and their own private chats with existing peers only', async () => {
    const asked = ['group', R1, R2, privateConversation(ANN, BOB), privateConversation(BOB, CAT), privateConversation(ANN, '9999999999')].map(conv);
    assert.deepEqual([...(await visibleConversations(sql, ANN, asked))].sort(), ['group', R1, privateConversation(ANN, BOB)].sort());
    assert.deepEqual([...(await visibleConversations(sql, BOB, asked))].sort(), ['group', R1, R2, privateConversation(ANN, BOB), privateConversation(BOB, CAT)].sort());
    assert.deepEqual([...(await visibleConversations(sql, EVE, asked))], ['group']);
    const rooms = await roomConversationsOf(sql, [BOB, ANN, EVE]);
    assert.deepEqual(rooms.get(BOB)?.sort(), [R1, R2]);
    assert.deepEqual(rooms.get(ANN), [R1]);
    assert.equal(rooms.has(EVE), false, 'a user in no room is absent');
    assert.equal((await roomConversationsOf(sql, [])).size, 0);
  });

  it('moves read cursors forward only, and only to ids of that conversation', async () => {
    const first = await send(R1, BOB, 'one');
    const second = await send(R1, CAT, 'two');
    const elsewhere = await send('group', BOB, 'group one');

    assert.deepEqual(await moveReadCursor(sql, ANN, conv(R1), second), { kind: 'ok', moved: true, lastReadId: second });
    assert.deepEqual(await moveReadCursor(sql, ANN, conv(R1), first), { kind: 'ok', moved: false, lastReadId: second });
    assert.deepEqual(await moveReadCursor(sql, ANN, conv(R1), elsewhere), { kind: 'not-in-conversation' });
    assert.deepEqual(await moveReadCursor(sql, ANN, conv(R1), 999_999n), { kind: 'not-in-conversation' });
    // Not a member: the room's row is never made through a read.
    assert.deepEqual(await moveReadCursor(sql, EVE, conv(R1), second), { kind: 'not-member' });
    assert.deepEqual(await moveReadCursor(sql, EVE, conv(R1), elsewhere), { kind: 'not-member' }, 'membership is checked before the id');
    assert.deepEqual(await moveReadCursor(sql, EVE, conv(R1), 999_999n), { kind: 'not-member' });
    assert.equal(await db.conversationMember.count({ where: { conversation: R1, userId: EVE } }), 0);
    // The group row appears with the first move.
    assert.deepEqual(await moveReadCursor(sql, EVE, conv('group'), elsewhere), { kind: 'ok', moved: true, lastReadId: elsewhere });
    const row = await db.conversationMember.findUnique({ where: { conversation_userId: { conversation: 'group', userId: EVE } } });
    assert.equal(row?.lastReadId, elsewhere);
    // Bob's own message is already read for him.
    assert.deepEqual(await moveReadCursor(sql, BOB, conv('group'), elsewhere), { kind: 'ok', moved: false, lastReadId: elsewhere });
  });

  it('hands the room to the longest-standing admin, else the longest-standing member', async () => {
    const room = 'r:bbbbbbbbbbb1';
    await sql.transaction(async (tx) => {
      await insertRoom(tx, { roomId: 'bbbbbbbbbbb1', name: 'succession', ownerId: ANN, memberIds: [], at: new Date(clock) });
      await insertMembers(tx, room, [{ userId: DAN, role: 'member' }], new Date(clock + 1), 0n);
      await insertMembers(tx, room, [{ userId: CAT, role: 'member' }], new Date(clock + 2), 0n);
      await insertMembers(tx, room, [{ userId: BOB, role: 'member' }], new Date(clock + 2), 0n);
    });
    await deleteMember(sql, room, ANN);
    assert.equal(await nextOwner(sql, room), DAN);
    await setMemberRole(sql, room, BOB, 'admin');
    assert.equal(await nextOwner(sql, room), BOB);
    for (const user of [BOB, CAT, DAN]) await deleteMember(sql, room, user);
    assert.equal(await nextOwner(sql, room), undefined);
  });

  describe('the inbox', () => {
    let ab: string;
    let abLast: bigint;

    before(async () => {
      ab = privateConversation(ANN, BOB);
      // A private chat whose rows exist but whose first message never got stored: not listed.
      await ensurePrivateChat(sql, ANN, EVE);
      await send(ab, BOB, 'hello ann');
      abLast = await send(ab, BOB, 'are you there?');
      await sendMany(privateConversation(ANN, DAN), DAN, 119);
      await send(privateConversation(ANN, DAN), DAN, 'spam 119');
    });

    it('lists group, rooms and private chats with messages, newest activity first', async () => {
      const { entries, next } = await inboxPage(sql, ANN, { limit: 50 });
      assert.equal(next, undefined);
      assert.deepEqual(
        entries.map((e) => e.conversation),
        [privateConversation(ANN, DAN), ab, 'group', R1],
      );
      const [spam, chat, group, room] = entries;
      assert.equal(spam!.kind, 'private');
      assert.deepEqual([spam!.unreadCount, spam!.unreadCapped], [99, true]);
      assert.equal(spam!.lastMessage?.content, 'spam 119');
      assert.deepEqual(spam!.peer, { userId: DAN, username: 'dan', avatar: `uploads/avatar/${DAN}.png` });

      assert.deepEqual([chat!.unreadCount, chat!.unreadCapped, chat!.lastReadId], [2, false, 0n]);
      assert.equal(chat!.lastMessage?.id, abLast);
      assert.equal(chat!.lastMessage?.target?.userId, ANN);

      assert.equal(group!.kind, 'group');
      assert.deepEqual([group!.unreadCount, group!.room, group!.peer], [1, undefined, undefined]);

      assert.equal(room!.kind, 'room');
      assert.deepEqual(room!.room, { roomId: ROOM_1, name: 'One', ownerId: ANN, memberCount: 3, role: 'owner' });
      // Ann read up to "two" in the earlier test.
      assert.deepEqual([room!.unreadCount, room!.lastMessage?.content], [0, 'two']);
    });

    it('counts only what came after the reader\'s own last message', async () => {
      const before = (await inboxPage(sql, BOB, { limit: 50 })).entries.find((e) => e.conversation === R1)!;
      assert.equal(before.unreadCount, 1); // Cat's "two" after Bob's "one"
      const mine = await send(R1, BOB, 'three');
      const afterSend = (await inboxPage(sql, BOB, { limit: 50 })).entries.find((e) => e.conversation === R1)!;
      assert.deepEqual([afterSend.unreadCount, afterSend.lastReadId], [0, mine]);
    });

    it('lists a room without messages, dated by its creation, and group before its first message', async () => {
      const { entries } = await inboxPage(sql, BOB, { limit: 50 });
      const two = entries.find((e) => e.conversation === R2)!;
      assert.equal(two.lastMessage, null);
      assert.equal(two.unreadCount, 0);
      // Eve has no room and no chat with a message.
      const eve = await inboxPage(sql, EVE, { limit: 50 });
      assert.deepEqual(eve.entries.map((e) => e.conversation), ['group']);
    });

    it('pages with a cursor, without overlap or gap, also across equal activity times', async () => {
      // Two rooms created at the same instant: ties are broken by conversation id.
      clock += 1000;
      const at = new Date(clock);
      for (const id of ['ccccccccccc1', 'ccccccccccc2', 'ccccccccccc3']) {
        await sql.transaction((tx) => insertRoom(tx, { roomId: id, name: id, ownerId: CAT, memberIds: [], at }));
      }
      const all = (await inboxPage(sql, CAT, { limit: 100 })).entries.map((e) => e.conversation);
      const paged: string[] = [];
      let before;
      for (let pages = 0; pages < 10; pages++) {
        const page: Awaited<ReturnType<typeof inboxPage>> = await inboxPage(sql, CAT, { limit: 2, before });
        paged.push(...page.entries.map((e) => e.conversation));
        if (!page.next) break;
        before = page.next;
      }
      assert.deepEqual(paged, all);
      assert.deepEqual(all.slice(0, 3), ['r:ccccccccccc3', 'r:ccccccccccc2', 'r:ccccccccccc1']);
    });

    it('reads at most the cap of index entries to count a reader far behind', async () => {
      const deep = privateConversation(CAT, EVE);
      await sendMany(deep, EVE, 3000);
      const reads = async () => {
        const rows = await single.query<Array<{ Value: string }>>("SHOW SESSION STATUS LIKE 'Handler_read%'");
        return rows.reduce((sum, row) => sum + Number(row.Value), 0);
      };
      const start = await reads();
      const { entries } = await inboxPage(single, CAT, { limit: 1 });
      const cost = (await reads()) - start;
      assert.equal(entries[0]!.conversation, deep);
      assert.deepEqual([entries[0]!.unreadCount, entries[0]!.unreadCapped], [99, true]);
      // Cat's handful of memberships, one last message, 100 unread index entries (and the same
      // 100 again from the derived table they are counted in): a few hundred, never the 3,000.
      assert.ok(cost < 500, `the inbox read ${cost} rows`);
    });

    it('lists private chats for presence, most recent first', async () => {
      assert.deepEqual(await privateChatsOf(sql, ANN, 10), [
        { conversation: privateConversation(ANN, DAN), peerId: DAN },
        { conversation: ab, peerId: BOB },
      ]);
      assert.deepEqual(await privateChatsOf(sql, ANN, 1), [{ conversation: privateConversation(ANN, DAN), peerId: DAN }]);
    });
  });
});
