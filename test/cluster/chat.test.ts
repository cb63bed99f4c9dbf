import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { createMessageWriter } from '@im/db';

/** Group and private chat across three real gateway processes. */
describe('chat across gateways', () => {
  let cluster: TestCluster;
  const clients: ChatClient[] = [];
  const connect = async (gateway: number, options: Parameters<typeof ChatClient.connect>[1]) => {
    const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, options);
    clients.push(client);
    return client;
  };

  before(async () => {
    cluster = await startCluster({ gateways: 3 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster.stop();
  });

  it('a group message reaches users on every gateway, with one cluster-wide online count', async () => {
    const users = await Promise.all([newUser(cluster, 'g'), newUser(cluster, 'g'), newUser(cluster, 'g')]);
    const sockets = [];
    for (const [i, user] of users.entries()) sockets.push(await connect(i, { token: user.token }));
    // Everyone sees the last one join, with the same count.
    for (const socket of sockets.slice(0, 2)) {
      const joined = await socket.next((f) => f.msg_type === 2 && f.user_id === users[2]!.userId);
      assert.equal(joined.online_count, 3);
    }
    sockets[0]!.send({ content: '大家好', msg_type: 4 });
    const frames = await Promise.all(sockets.map((s) => s.next((f) => f.msg_type === 4 && f.content === '大家好')));
    for (const frame of frames) {
      assert.equal(frame.user_id, users[0]!.userId);
      assert.equal(frame.username, users[0]!.username);
      assert.match(frame.avatar, /^uploads\/avatar\/[0-9a-f]{10}\.png$/);
      assert.equal(frame.online_count, 3);
      assert.ok(Number.isInteger(frame.id));
      assert.ok(!Number.isNaN(Date.parse(frame.date)));
    }
    assert.equal(new Set(frames.map((f) => f.id)).size, 1);

    // The last connection of a user leaving sends msg_type 3 to the others.
    await sockets[2]!.close();
    const left = await sockets[0]!.next((f) => f.msg_type === 3 && f.user_id === users[2]!.userId);
    assert.equal(left.online_count, 2);
  });

  it('join and leave frames go out only for a user’s first and last connection', async () => {
    const watcher = await newUser(cluster, 'w');
    const multi = await newUser(cluster, 'm');
    const w = await connect(0, { token: watcher.token });
    const first = await connect(1, { token: multi.token });
    await w.next((f) => f.msg_type === 2 && f.user_id === multi.userId);
    const second = await connect(2, { token: multi.token });
    await first.close();
    // A message after both changes proves no extra join/leave frame came before it.
    second.send({ content: 'still here', msg_type: 4 });
    await w.next((f) => f.content === 'still here');
    const about = w.frames.filter((f) => f.user_id === multi.userId && (f.msg_type === 2 || f.msg_type === 3));
    assert.deepEqual(about.map((f) => f.msg_type), [2]);
    await second.close();
    await w.next((f) => f.msg_type === 3 && f.user_id === multi.userId);
  });

  it('private messages cross gateways, echo to the sender’s other sockets, and carry the target', async () => {
    const alice = await newUser(cluster, 'pa');
    const bob = await newUser(cluster, 'pb');
    const aliceOne = await connect(0, { token: alice.token, kind: 'private', targetId: bob.userId });
    const aliceTwo = await connect(2, { token: alice.token, kind: 'private', targetId: bob.userId });
    const bobSocket = await connect(1, { token: bob.token, kind: 'private', targetId: alice.userId });
    await aliceOne.next((f) => f.msg_type === 2 && f.user_id === bob.userId);

    aliceOne.send({ content: 'hi bob', msg_type: 4, client_msg_id: 'p-1' });
    const [atBob, atAliceTwo, echo] = await Promise.all(
      [bobSocket, aliceTwo, aliceOne].map((s) => s.next((f) => f.content === 'hi bob')),
    );
    for (const frame of [atBob, atAliceTwo, echo]) {
      assert.equal(frame.target_id, bob.userId);
      assert.equal(frame.target_name, bob.username);
      assert.match(frame.target_avatar, /uploads\/avatar\//);
      assert.equal(frame.online_count, 2);
      assert.equal(frame.client_msg_id, 'p-1');
    }

    // A third user’s private room never sees it.
    const carol = await newUser(cluster, 'pc');
    const carolSocket = await connect(0, { token: carol.token, kind: 'private', targetId: alice.userId });
    bobSocket.send({ content: 'back at you', msg_type: 4 });
    await aliceOne.next((f) => f.content === 'back at you');
    assert.equal(carolSocket.frames.filter((f) => f.msg_type === 4).length, 0);
  });

  it('stores a private message to an offline user and shows it in history', async () => {
    const sender = await newUser(cluster, 'off');
    const offline = await newUser(cluster, 'off');
    const socket = await connect(1, { token: sender.token, kind: 'private', targetId: offline.userId });
    socket.send({ content: 'read this later', msg_type: 4 });
    const echo = await socket.next((f) => f.content === 'read this later');
    assert.equal(echo.online_count, 1);

    const history = await (
      await fetch(`${cluster.apiUrl}/api/chat_privateList?username=${encodeURIComponent(sender.username)}`, {
        headers: { authorization: `bearer ${offline.token}` },
      })
    ).json();
    assert.equal(history.code, 0);
    assert.equal(history.data.count, 1);
    assert.equal(history.data.list[0].content, 'read this later');
    assert.equal(history.data.list[0].id, echo.id);
  });

  it('a resend with the same client_msg_id creates no second row and no second broadcast', async () => {
    const sender = await newUser(cluster, 'dup');
    const receiver = await newUser(cluster, 'dup');
    const s = await connect(0, { token: sender.token });
    const r = await connect(1, { token: receiver.token });
    await s.next((f) => f.msg_type === 2 && f.user_id === receiver.userId);
    s.send({ content: 'once', msg_type: 4, client_msg_id: 'dedup-1' });
    const original = await s.next((f) => f.client_msg_id === 'dedup-1');
    s.send({ content: 'once (resent)', msg_type: 4, client_msg_id: 'dedup-1' });
    s.send({ content: 'marker', msg_type: 4 });
    await r.next((f) => f.content === 'marker');
    await s.next((f) => f.content === 'marker');
    const acks = s.frames.filter((f) => f.client_msg_id === 'dedup-1');
    assert.deepEqual(acks.map((f) => [f.id, f.content]), [[original.id, 'once'], [original.id, 'once']]);
    assert.equal(r.frames.filter((f) => f.client_msg_id === 'dedup-1').length, 1);

    const history = await (
      await fetch(`${cluster.apiUrl}/api/chat_groupList?username=${sender.username}`, {
        headers: { authorization: `bearer ${sender.token}` },
      })
    ).json();
    assert.equal(history.data.count, 2);
  });

  it('logout closes that token’s sockets on every gateway within a second, and only those', async () => {
    const user = await newUser(cluster, 'out');
    const other = await newUser(cluster, 'stay');
    // Two of them on one gateway: every socket of the token goes, not just one per gateway.
    const sockets = await Promise.all([0, 1, 2, 0].map((g) => connect(g, { token: user.token })));
    const bystander = await connect(0, { token: other.token });
    const started = Date.now();
    const answer = await (
      await fetch(`${cluster.apiUrl}/api/users/logout`, { method: 'POST', headers: { authorization: `bearer ${user.token}` } })
    ).json();
    assert.equal(answer.code, 0);
    const closes = await Promise.all(sockets.map((s) => s.closed));
    assert.ok(Date.now() - started < 1_000, `closed after ${Date.now() - started} ms`);
    for (const close of closes) assert.equal(close.code, 4001);
    assert.equal(bystander.ws.readyState, bystander.ws.OPEN);
    await assert.rejects(ChatClient.connect(cluster.gatewayUrls[1]!, { token: user.token }), /401/);
  });

  it('catches up from last_id: exactly the later messages, in order, then live ones', async () => {
    const sender = await newUser(cluster, 'cu');
    const reader = await newUser(cluster, 'cu');
    const s = await connect(0, { token: sender.token });
    s.send({ content: 'before', msg_type: 4 });
    const seen = await s.next((f) => f.content === 'before');
    for (let i = 0; i < 5; i++) s.send({ content: `missed ${i}`, msg_type: 4 });
    await s.next((f) => f.content === 'missed 4');
    const r = await connect(2, { token: reader.token, lastId: seen.id });
    s.send({ content: 'live', msg_type: 4 });
    await r.next((f) => f.content === 'live');
    const received = r.frames.filter((f) => f.msg_type === 4).map((f) => f.content);
    const expected = s.frames.filter((f) => f.msg_type === 4 && f.id > seen.id).map((f) => f.content);
    assert.deepEqual(received.slice(0, expected.length), expected);
    assert.deepEqual(received.slice(-1), ['live']);
    const ids = r.frames.filter((f) => f.msg_type === 4).map((f) => f.id);
    assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b));
  });

  it('delivers a message that was stored but never published (its gateway died in between)', async () => {
    const writerUser = await newUser(cluster, 'lost');
    const watcher = await newUser(cluster, 'watch');
    const sockets = await Promise.all([0, 1, 2].map((g) => connect(g, { token: watcher.token })));
    // Stored straight into MySQL, as if a gateway crashed before its PUBLISH.
    const writer = createMessageWriter({ url: cluster.database.url, connectionLimit: 1 });
    const stored = await writer.write({
      conversation: 'group',
      senderId: writerUser.userId,
      targetId: null,
      msgType: 4,
      content: 'never published',
      clientMsgId: null,
      fileId: null,
      onlineCount: 1,
    });
    await writer.close();
    const frames = await Promise.all(sockets.map((s) => s.next((f) => f.content === 'never published', 15_000)));
    for (const frame of frames) assert.equal(frame.id, Number(stored.id));
  });

  it('accepts the token as a header or as subprotocols, selecting `bearer`', async () => {
    const user = await newUser(cluster, 'tok');
    const viaHeader = await connect(1, { token: user.token, tokenIn: 'header' });
    const viaProtocol = await connect(2, { token: user.token, tokenIn: 'subprotocol' });
    assert.equal(viaProtocol.ws.protocol, 'bearer');
    viaHeader.send({ content: 'header ok', msg_type: 4 });
    await viaProtocol.next((f) => f.content === 'header ok');
  });
});
