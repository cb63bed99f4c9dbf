import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSqlRunner, insertRoom, type SqlRunner } from '@im/db';
import { privateConversation, roomConversation } from '@im/protocol';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { startInProcessCluster, type InProcessCluster, type TestUser } from './support/in-process-gateways.ts';

/** Short enough to wait out, long enough for a reconnect on a loaded machine. */
const GRACE_MS = 1_500;

/** `/api/chat`'s relayed frames in one process: typing (8), read receipts (9), private-chat presence (2/3). */
describe('/api/chat in process: typing, read receipts, peer presence', () => {
  let cluster: InProcessCluster;
  let sql: SqlRunner;
  const clients: ChatClient[] = [];
  const device = async (gateway: number, user: TestUser) => {
    const client = await ChatClient.connect(cluster.gateways[gateway]!.url, { token: user.token, kind: 'chat' });
    clients.push(client);
    return client;
  };
  const sent = async (socket: ChatClient, conversation: string, content: string) => {
    const clientMsgId = randomBytes(6).toString('hex');
    socket.send({ conversation, msg_type: 4, content, client_msg_id: clientMsgId });
    return (await socket.next((f) => f.client_msg_id === clientMsgId && f.id !== undefined)).id as number;
  };

  before(async () => {
    cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000, peer_offline_grace_ms: GRACE_MS } });
    sql = createSqlRunner({ url: cluster.database.url, connectionLimit: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sql?.close();
    await cluster?.close();
  });

  it('typing reaches the others (not the typist), at most once per 2 s, and is never stored', async () => {
    const [ivy, jon] = await Promise.all(['ivy', 'jon'].map((n) => cluster.newUser(n)));
    const roomId = randomBytes(6).toString('hex');
    await insertRoom(sql, { roomId, name: 'typing', ownerId: ivy!.userId, memberIds: [jon!.userId], at: new Date() });
    const room = roomConversation(roomId);
    const ivySocket = await device(0, ivy!);
    const jonSocket = await device(1, jon!);
    for (let i = 0; i < 5; i += 1) ivySocket.send({ conversation: room, msg_type: 8 });
    const typing = await jonSocket.next((f) => f.msg_type === 8);
    assert.deepEqual([typing.conversation, typing.user_id, typing.username], [room, ivy!.userId, ivy!.username]);
    const pair = privateConversation(ivy!.userId, jon!.userId);
    ivySocket.send({ conversation: pair, msg_type: 8 });
    await jonSocket.next((f) => f.msg_type === 8 && f.conversation === pair);
    // A message after the burst arrives after any relayed typing frame would have.
    await sent(ivySocket, room, 'marker');
    await jonSocket.next((f) => f.content === 'marker');
    assert.equal(jonSocket.frames.filter((f) => f.msg_type === 8 && f.conversation === room).length, 1);
    assert.equal(ivySocket.frames.some((f) => f.msg_type === 8), false);
    const stored = await sql.query('SELECT COUNT(*) AS n FROM chat_messages WHERE conversation = ? AND msg_type = 8', [room]);
    assert.equal(Number(stored[0].n), 0);
  });

  it('a read frame moves the cursor forward only, and the receipt reaches the peer and the reader’s other devices', async () => {
    const [kim, leo] = await Promise.all(['kim', 'leo'].map((n) => cluster.newUser(n)));
    const pair = privateConversation(kim!.userId, leo!.userId);
    const kimPhone = await device(0, kim!);
    const kimLaptop = await device(1, kim!);
    const leoSocket = await device(1, leo!);
    const first = await sent(leoSocket, pair, 'one');
    const second = await sent(leoSocket, pair, 'two');
    kimPhone.send({ conversation: pair, msg_type: 9, last_read_id: second });
    for (const socket of [leoSocket, kimLaptop, kimPhone]) {
      const receipt = await socket.next((f) => f.msg_type === 9);
      assert.deepEqual([receipt.conversation, receipt.user_id, receipt.last_read_id], [pair, kim!.userId, second]);
    }
    const [row] = await sql.query('SELECT last_read_id FROM conversation_members WHERE conversation = ? AND user_id = ?', [pair, kim!.userId]);
    assert.equal(Number(row.last_read_id), second);
    // Backwards: nothing moves, nothing is relayed; an id of another conversation is 1002.
    kimPhone.send({ conversation: pair, msg_type: 9, last_read_id: first });
    kimPhone.send({ conversation: pair, msg_type: 9, last_read_id: 1 });
    const error = await kimPhone.next((f) => f.msg_type === 1 && f.code === 1002);
    assert.equal(error.conversation, pair);
    assert.equal(leoSocket.frames.filter((f) => f.msg_type === 9).length, 1);
  });

  it('private-chat peers see a user come online (2) and, once the grace ran out, go offline (3)', async () => {
    const [max, ned] = await Promise.all(['max', 'ned'].map((n) => cluster.newUser(n)));
    const pair = privateConversation(max!.userId, ned!.userId);
    const nedSocket = await device(0, ned!);
    const first = await device(1, max!);
    await sent(first, pair, 'hello');
    const closedAt = Date.now();
    await first.close();
    const offline = await nedSocket.next((f) => f.msg_type === 3 && f.user_id === max!.userId, GRACE_MS * 4);
    assert.equal(offline.conversation, pair);
    assert.ok(Date.now() - closedAt >= GRACE_MS - 100, `told offline ${Date.now() - closedAt} ms after the close, before the grace`);
    await device(1, max!);
    const online = await nedSocket.next((f) => f.msg_type === 2 && f.user_id === max!.userId);
    assert.deepEqual([online.conversation, online.online_count], [pair, 2]);
  });

  it('a device that drops and comes back within the grace is announced to nobody, neither gone nor back', async () => {
    const [oli, pam] = await Promise.all(['oli', 'pam'].map((n) => cluster.newUser(n)));
    const pair = privateConversation(oli!.userId, pam!.userId);
    const pamSocket = await device(0, pam!);
    const before = await device(1, oli!);
    await sent(before, pair, 'hello');
    await pamSocket.next((f) => f.content === 'hello');
    await before.close();
    const again = await device(0, oli!);
    // Past the grace and a check of due notices: a notice told by then would arrive before this message.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 1_000));
    await sent(again, pair, 'still here');
    await pamSocket.next((f) => f.content === 'still here');
    assert.deepEqual(pamSocket.frames.filter((f) => (f.msg_type === 2 || f.msg_type === 3) && f.user_id === oli!.userId), []);
  });
});
