import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlRunner, insertRoom, deleteMember, type SqlRunner } from '@im/db';
import { parseConversation, privateConversation, roomConversation, type ParsedConversation, type UserSummary } from '@im/protocol';
import { createTestDatabase, type TestDatabase } from '@im/testing';
import { RoomMemberships } from '../src/devices/room-memberships.ts';
import { resumable } from '../src/devices/resumable.ts';

const [ANN, BOB, CAT, GONE] = ['a000000001', 'b000000002', 'c000000003', 'd000000004'];
const [R1, R2] = ['aaaaaaaaaaa1', 'aaaaaaaaaaa2'];

/** Which conversations a socket may resume, and what a storm of resumes costs MySQL (real MariaDB). */
describe('resumable conversations', () => {
  let database: TestDatabase;
  let sql: SqlRunner;
  const statements: string[] = [];
  let memberships: RoomMemberships;
  const users = {
    get: async (userId: string): Promise<UserSummary | undefined> => ([ANN, BOB, CAT].includes(userId) ? { userId, username: userId, avatar: '' } : undefined),
  };
  const parsed = (id: string): ParsedConversation => parseConversation(id)!;

  before(async () => {
    database = await createTestDatabase();
    sql = createSqlRunner({ url: database.url, connectionLimit: 2 });
    for (const userId of [ANN, BOB, CAT]) {
      await sql.query("INSERT INTO users (user_id, username, email, password_hash, avatar, updated_at) VALUES (?, ?, ?, 'x', '', NOW(3))", [userId, userId, `${userId}@example.com`]);
    }
    await insertRoom(sql, { roomId: R1, name: 'one', ownerId: ANN, memberIds: [BOB], at: new Date() });
    await insertRoom(sql, { roomId: R2, name: 'two', ownerId: BOB, memberIds: [], at: new Date() });
    const counting = { query: (statement: string, values?: unknown[]) => (statements.push(statement), sql.query(statement, values)) } as SqlRunner;
    memberships = new RoomMemberships(counting);
  });
  after(async () => {
    await sql?.close();
    await database?.drop();
  });

  it('group always; rooms while a member; private chats of theirs with a peer that exists', async () => {
    const asked = ['group', roomConversation(R1), roomConversation(R2), privateConversation(ANN, BOB), privateConversation(BOB, CAT), privateConversation(ANN, GONE)].map(parsed);
    const visible = await resumable({ memberships, users }, ANN, asked);
    assert.deepEqual([...visible].sort(), ['group', roomConversation(R1), privateConversation(ANN, BOB)].sort());
    const forBob = await resumable({ memberships, users }, BOB, asked);
    assert.deepEqual([...forBob].sort(), ['group', roomConversation(R1), roomConversation(R2), privateConversation(ANN, BOB), privateConversation(BOB, CAT)].sort());
  });

  it('reads membership fresh: a removed member no longer resumes the room', async () => {
    await deleteMember(sql, roomConversation(R1), BOB);
    const visible = await resumable({ memberships, users }, BOB, [parsed(roomConversation(R1))]);
    assert.equal(visible.size, 0);
  });

  it('resumes arriving together share one statement', async () => {
    const from = statements.length;
    const answers = await Promise.all([ANN, BOB, CAT, ANN, BOB].map((userId) => memberships.roomsOf(userId)));
    assert.equal(statements.length - from, 1, 'one statement for five lookups');
    assert.deepEqual(answers.map((rooms) => rooms.sort()), [[roomConversation(R1)], [roomConversation(R2)], [], [roomConversation(R1)], [roomConversation(R2)]]);
  });
});
