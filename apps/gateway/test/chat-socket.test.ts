import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeTransient, roomChannel, userChannel } from '@im/bus';
import { createSqlRunner, deleteMember, insertRoom, type SqlRunner } from '@im/db';
import { privateConversation, roomConversation, roomEventFrame } from '@im/protocol';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { startInProcessCluster, type InProcessCluster, type TestUser } from './support/in-process-gateways.ts';

/** `ws /api/chat` in one process: two gateways on the memory broker, real sockets and MariaDB. */
describe('/api/chat in process: one socket per device', () => {
  let cluster: InProcessCluster;
  let sql: SqlRunner;
  const clients: ChatClient[] = [];
  const device = async (gateway: number, user: TestUser, lastIds?: Record<string, number>) => {
    const client = await ChatClient.connect(cluster.gateways[gateway]!.url, { token: user.token, kind: 'chat', lastIds });
    clients.push(client);
    return client;
  };
  const makeRoom = async (owner: TestUser, members: TestUser[]) => {
    const roomId = randomBytes(6).toString('hex');
    await insertRoom(sql, { roomId, name: `room-${roomId}`, ownerId: owner.userId, memberIds: members.map((m) => m.userId), at: new Date() });
    return roomConversation(roomId);
  };
  /** What the API publishes when a member is removed (apps/api/src/rooms/room-events.ts). */
  const publishRemoved = async (conversation: string, user: TestUser, by: TestUser) => {
    const frame = roomEventFrame({
      conversation,
      event: 'member_removed',
      room: { room_id: conversation.slice(2), name: 'x', owner_id: by.userId, member_count: 1 },
      userId: user.userId,
      by: by.userId,
    });
    const payload = encodeTransient(conversation, JSON.stringify(frame));
    await cluster.outsider.publishMany([
      { channel: roomChannel(conversation), payload },
      { channel: userChannel(user.userId), payload },
    ]);
  };
  const text = (frames: any[], conversation: string) => frames.filter((f) => f.conversation === conversation && f.id !== undefined).map((f) => f.content);

  before(async () => {
    cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000 } });
    sql = createSqlRunner({ url: cluster.database.url, connectionLimit: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sql?.close();
    await cluster?.close();
  });

  it('a user’s two devices on two gateways get their rooms and private chats, a stranger’s first message included', async () => {
    const [ann, bob, cat] = await Promise.all(['ann', 'bob', 'cat'].map((n) => cluster.newUser(n)));
    const room = await makeRoom(ann!, [bob!]);
    const annPhone = await device(0, ann!);
    const annLaptop = await device(1, ann!);
    const bobSocket = await device(1, bob!);
    const catSocket = await device(0, cat!);

    bobSocket.send({ conversation: room, msg_type: 4, content: '房间里的第一句', client_msg_id: 'b1' });
    for (const socket of [annPhone, annLaptop, bobSocket]) await socket.next((f) => f.conversation === room && f.content === '房间里的第一句');

    const annCat = privateConversation(ann!.userId, cat!.userId);
    catSocket.send({ conversation: annCat, msg_type: 4, content: '你好，陌生人', client_msg_id: 'c1' });
    const live = await annPhone.next((f) => f.conversation === annCat && f.id !== undefined);
    assert.equal(live.content, '你好，陌生人');
    assert.equal(live.target_id, ann!.userId);
    await annLaptop.next((f) => f.conversation === annCat && f.content === '你好，陌生人');
    await catSocket.next((f) => f.client_msg_id === 'c1' && f.id !== undefined);
    // The inbox now has the chat for both: its two membership rows exist, and its activity moved.
    const rows = await sql.query('SELECT user_id FROM conversation_members WHERE conversation = ? ORDER BY user_id', [annCat]);
    assert.deepEqual(rows.map((r: any) => r.user_id), [ann!.userId, cat!.userId].sort());

    annLaptop.send({ conversation: annCat, msg_type: 4, content: '你好 cat', client_msg_id: 'a1' });
    await annPhone.next((f) => f.content === '你好 cat' && f.conversation === annCat);
    await catSocket.next((f) => f.content === '你好 cat' && f.conversation === annCat);
    // Nobody got the group: it was never named.
    for (const socket of [annPhone, annLaptop, bobSocket, catSocket]) assert.equal(socket.frames.some((f) => f.conversation === 'group'), false);
  });

  it('resume: each listed conversation’s later messages in order, then live ones, then the caught-up notice', async () => {
    const [dan, eve] = await Promise.all(['dan', 'eve'].map((n) => cluster.newUser(n)));
    const room = await makeRoom(dan!, [eve!]);
    const eveSocket = await device(0, eve!);
    for (let i = 1; i <= 5; i += 1) {
      eveSocket.send({ conversation: room, msg_type: 4, content: `m${i}`, client_msg_id: `m${i}` });
      await eveSocket.next((f) => f.client_msg_id === `m${i}` && f.id !== undefined);
    }
    const ids = eveSocket.frames.filter((f) => f.conversation === room && f.id !== undefined).map((f) => f.id);
    const danSocket = await device(1, dan!, { [room]: ids[1], group: 0 });
    assert.deepEqual(text(danSocket.frames, room), ['m3', 'm4', 'm5']);
    const caughtUp = danSocket.frames.findIndex((f) => f.msg_type === 1 && f.code === 0);
    assert.ok(caughtUp > danSocket.frames.findIndex((f) => f.content === 'm5'));
    assert.equal(danSocket.frames[caughtUp].conversation, undefined);
    eveSocket.send({ conversation: room, msg_type: 4, content: 'm6' });
    await danSocket.next((f) => f.content === 'm6');
    assert.deepEqual(text(danSocket.frames, room), ['m3', 'm4', 'm5', 'm6']);
    // Named in the resume: the group is delivered now, and the socket may send to it.
    danSocket.send({ conversation: 'group', msg_type: 4, content: '大家好', client_msg_id: 'g1' });
    await danSocket.next((f) => f.conversation === 'group' && f.client_msg_id === 'g1' && f.id !== undefined);
  });

  it('a removed member’s sockets stop getting the room at once, on every gateway; the others go on', async () => {
    const [owner, gone] = await Promise.all(['own', 'gone'].map((n) => cluster.newUser(n)));
    const room = await makeRoom(owner!, [gone!]);
    const ownerSocket = await device(0, owner!);
    const goneSockets = [await device(0, gone!), await device(1, gone!)];
    ownerSocket.send({ conversation: room, msg_type: 4, content: 'before' });
    for (const socket of goneSockets) await socket.next((f) => f.content === 'before');
    await deleteMember(sql, room, gone!.userId);
    await publishRemoved(room, gone!, owner!);
    for (const socket of goneSockets) await socket.next((f) => f.msg_type === 11 && f.event === 'member_removed');
    ownerSocket.send({ conversation: room, msg_type: 4, content: 'after', client_msg_id: 'after' });
    await ownerSocket.next((f) => f.client_msg_id === 'after' && f.id !== undefined);
    // A later frame through the same gateways shows the room's message was not delivered to them.
    ownerSocket.send({ conversation: privateConversation(owner!.userId, gone!.userId), msg_type: 4, content: 'private marker' });
    for (const socket of goneSockets) {
      await socket.next((f) => f.content === 'private marker');
      assert.equal(socket.frames.some((f) => f.content === 'after'), false);
      assert.equal(socket.frames.filter((f) => f.msg_type === 11).length, 1, 'the removal event once per socket');
    }
    const refused = goneSockets[0]!;
    refused.send({ conversation: room, msg_type: 4, content: 'still here?', client_msg_id: 'x1' });
    const error = await refused.next((f) => f.msg_type === 1 && f.client_msg_id === 'x1');
    assert.equal(error.code, 1005);
    assert.equal(error.conversation, room);
  });

  it('bad frames get a msg_type 1 error naming the conversation, and the socket goes on', async () => {
    const [fay, stranger] = await Promise.all(['fay', 'str'].map((n) => cluster.newUser(n)));
    const otherRoom = await makeRoom(stranger!, []);
    const socket = await device(0, fay!);
    const errorAfter = async (frame: unknown) => {
      const from = socket.frames.length;
      socket.send(frame);
      return socket.next((f) => f.msg_type === 1 && f.code !== 0, 10_000, from);
    };
    assert.equal((await errorAfter({ conversation: 'P:nope', msg_type: 4, content: 'x' })).code, 1002);
    assert.equal((await errorAfter({ conversation: otherRoom, msg_type: 4, content: 'x' })).code, 1005);
    assert.equal((await errorAfter({ conversation: privateConversation(fay!.userId, '0000000000'), msg_type: 4, content: 'x' })).code, 1005);
    assert.equal((await errorAfter({ conversation: 'group', msg_type: 4, content: 'not named yet' })).code, 1002);
    assert.equal((await errorAfter({ conversation: otherRoom, msg_type: 9, last_read_id: 1 })).code, 1005);
    assert.equal((await errorAfter({ conversation: privateConversation(fay!.userId, '0000000000'), msg_type: 9, last_read_id: 1 })).code, 1005);
    assert.equal((await errorAfter({ conversation: privateConversation(stranger!.userId, '0000000000'), msg_type: 9, last_read_id: 1 })).code, 1005);
    assert.equal((await errorAfter({ conversation: otherRoom, msg_type: 6, content: '' })).code, 1002);
    const big = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [roomConversation(i.toString(16).padStart(12, '0')), 0]));
    assert.equal((await errorAfter({ msg_type: 10, conversations: big })).code, 1002);
    const notMine = await errorAfter({ msg_type: 10, conversations: { [otherRoom]: 0 } });
    assert.deepEqual([notMine.code, notMine.conversation], [1005, otherRoom]);
    assert.equal((await errorAfter('not json')).code, 1002);
    // Still working.
    const mine = privateConversation(fay!.userId, stranger!.userId);
    socket.send({ conversation: mine, msg_type: 4, content: 'ok', client_msg_id: 'ok1' });
    await socket.next((f) => f.client_msg_id === 'ok1' && f.id !== undefined);
  });

  it('file frames carry a signed url; a file of another conversation is refused on both endpoints', async () => {
    const [gus, hal] = await Promise.all(['gus', 'hal'].map((n) => cluster.newUser(n)));
    const room = await makeRoom(gus!, [hal!]);
    const otherRoom = await makeRoom(gus!, []);
    const upload = async (conversation: string) => {
      const name = `${Date.now()}-${randomBytes(8).toString('hex')}.png`;
      await sql.query(
        `INSERT INTO files (file_name, original_name, owner_id, target_id, size, mime_type, file_type, storage_key, conversation, created_at)
         VALUES (?, 'cover.png', ?, NULL, 104, 'image/png', 'png', ?, ?, NOW(3))`,
        [name, gus!.userId, `k/${name}`, conversation],
      );
      return name;
    };
    const [roomFile, otherFile] = [await upload(room), await upload(otherRoom)];
    const gusSocket = await device(0, gus!);
    const halSocket = await device(1, hal!);
    gusSocket.send({ conversation: room, msg_type: 7, content: '', file: { name: roomFile }, client_msg_id: 'img' });
    const image = await halSocket.next((f) => f.conversation === room && f.msg_type === 7);
    assert.match(image.file.url, new RegExp(`^api/files/download\\?file=${roomFile}&expires=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const from = gusSocket.frames.length;
    gusSocket.send({ conversation: room, msg_type: 7, content: '', file: { name: otherFile }, client_msg_id: 'wrong' });
    assert.equal((await gusSocket.next((f) => f.client_msg_id === 'wrong', 10_000, from)).code, 1005);
    // Part 1's group socket: a room's file is not a group file (the hole resolve-file had).
    const group = await ChatClient.connect(cluster.gateways[0]!.url, { token: gus!.token });
    clients.push(group);
    group.send({ msg_type: 7, content: '', file: { name: roomFile }, client_msg_id: 'leak' });
    const refused = await group.next((f) => f.client_msg_id === 'leak');
    assert.equal(refused.code, 1005);
  });

  it('a member of 500 rooms connects, resumes them all and gets live messages of any of them', async () => {
    const [many, poster] = await Promise.all(['many', 'post'].map((n) => cluster.newUser(n)));
    const rooms: string[] = [];
    for (let i = 0; i < 500; i += 1) rooms.push(await makeRoom(poster!, [many!]));
    const posterSocket = await device(1, poster!);
    const early = [rooms[0]!, rooms[250]!, rooms[499]!];
    for (const room of early) posterSocket.send({ conversation: room, msg_type: 4, content: `early ${room}` });
    await posterSocket.next((f) => f.content === `early ${rooms[499]}` && f.id !== undefined);
    const socket = await device(0, many!, Object.fromEntries(rooms.map((room) => [room, 0])));
    assert.deepEqual(
      socket.frames.filter((f) => f.id !== undefined).map((f) => f.content).sort(),
      early.map((room) => `early ${room}`).sort(),
    );
    posterSocket.send({ conversation: rooms[377]!, msg_type: 4, content: 'live in 377' });
    await socket.next((f) => f.conversation === rooms[377] && f.content === 'live in 377');
  });

  it('Part 1 and /api/chat meet in one private chat: each side gets the other’s messages', async () => {
    const [old, neu] = await Promise.all(['old', 'new'].map((n) => cluster.newUser(n)));
    const pair = privateConversation(old!.userId, neu!.userId);
    const part2 = await device(0, neu!);
    const part1 = await ChatClient.connect(cluster.gateways[1]!.url, { token: old!.token, kind: 'private', targetId: neu!.userId });
    clients.push(part1);
    part1.send({ msg_type: 4, content: 'from Part 1' });
    const got = await part2.next((f) => f.content === 'from Part 1');
    assert.equal(got.conversation, pair);
    part2.send({ conversation: pair, msg_type: 4, content: 'from /api/chat' });
    const back = await part1.next((f) => f.content === 'from /api/chat');
    assert.equal(back.conversation, undefined, 'Part 1 frames stay as they were');
  });
});
