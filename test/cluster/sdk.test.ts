import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ApiError, ImClient, type ChatMessage, type ChatSocket, type StateChange, type UploadProgress } from '@im/client';
import { startCluster, newUser, signUpWith, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { storedMessages } from '../support/stored-messages.ts';

/**
 * The SDK (packages/client) against the real API and gateway processes: the Part 1 HTTP calls it
 * wraps, and its socket through a gateway killed with SIGKILL and started again — it shows
 * "reconnecting", resumes with last_id, resends what was not acknowledged, and the user ends up
 * with every message exactly once and every own message stored exactly once.
 */
describe('SDK against the cluster', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  const sockets: ChatSocket[] = [];
  const raw: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 2 });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(raw.map((c) => c.close()));
    await cluster?.stop();
  });

  const client = () => new ImClient({ baseUrl: cluster.apiUrl, WebSocket: WebSocket as never });
  /** Sockets go to a gateway's own port: this cluster has no front door. */
  const gateway = (index: number) => cluster.gatewayUrls[index]!;

  it('registers, signs in, lists users and pages through history with cursors', async () => {
    const im = client();
    const me = await signUpWith(im, `sdk${Date.now().toString(36)}`);
    assert.equal(im.user?.user_id, me.userId);
    const users = await im.accounts.list({ limit: 100 });
    assert.ok(users.list.some((u) => u.user_id === me.userId));
    const taken = await im.register({ email: me.email, username: `${me.username}x`, password: me.password }).catch((e) => e);
    assert.ok(taken instanceof ApiError);
    assert.deepEqual([taken.code, taken.status, taken.data.field], [1006, 409, 'email']);

    const writer = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: me.token });
    raw.push(writer);
    for (let i = 1; i <= 5; i += 1) writer.send({ content: `page ${i}`, msg_type: 4, client_msg_id: `page-${me.userId}-${i}` });
    await writer.next((f) => f.client_msg_id === `page-${me.userId}-5`);
    const newest = await im.history.group({ limit: 2, username: me.username });
    assert.deepEqual(newest.list.map((m) => m.content), ['page 5', 'page 4']);
    assert.equal(newest.count, 5);
    const older = await im.history.group({ limit: 2, beforeId: newest.list[1]!.id, username: me.username });
    assert.deepEqual(older.list.map((m) => m.content), ['page 3', 'page 2']);
  });

  it('uploads a file with progress (streamed from Node), downloads the same bytes, and sends it as a file message', async () => {
    const im = client();
    const me = await signUpWith(im, `up${Date.now().toString(36)}`);
    const peer = await newUser(cluster, 'peer');
    const text = 'line of text\n'.repeat(30_000);
    const progress: UploadProgress[] = [];
    const uploaded = await im.files.upload(new Blob([text], { type: 'text/plain' }), {
      targetId: peer.userId,
      fileName: '笔记.txt',
      onProgress: (p) => progress.push(p),
    });
    assert.equal(uploaded.original_name, '笔记.txt');
    assert.equal(uploaded.file_size, text.length);
    assert.ok(progress.length > 2 && progress.at(-1)!.loaded === progress.at(-1)!.total, 'progress up to the whole body');
    assert.equal(await (await im.files.download(uploaded.file_name)).text(), text);

    const socket = im.privateSocket(peer.userId, { url: gateway(1), lastId: 0 });
    sockets.push(socket);
    await socket.connect();
    const stored = await socket.send({ msg_type: 5, content: uploaded.original_name, file: { name: uploaded.file_name } }).acked;
    assert.equal(stored.file?.name, uploaded.file_name);
    assert.equal(stored.target_id, peer.userId);
    assert.equal(stored.user_id, me.userId);
    socket.close();
  });

  it('rides out a gateway crash: reconnecting, resume with last_id, resend, nothing lost or doubled', async () => {
    const alice = client();
    await signUpWith(alice, `alice${Date.now().toString(36)}`);
    const bob = await newUser(cluster, 'bob');
    const bobSocket = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: bob.token });
    raw.push(bobSocket);

    const start = (await alice.history.group({ limit: 1 })).list[0]?.id ?? 0;
    const socket = alice.groupSocket({ url: gateway(0), lastId: start, reconnect: { initialMs: 100, maxMs: 1_000 } });
    sockets.push(socket);
    const received: ChatMessage[] = [];
    const states: StateChange[] = [];
    socket.on('message', (m) => received.push(m));
    socket.on('state', (s) => states.push(s));
    await socket.connect();
    await socket.send({ msg_type: 4, content: 'before the crash' }).acked;

    const down = new Promise<void>((resolve) => socket.on('state', (s) => s.state === 'reconnecting' && resolve()));
    cluster.gateways[0]!.child.kill('SIGKILL');
    await down;
    // While Alice's gateway is down: Bob talks on the other one, Alice writes two messages.
    for (let i = 1; i <= 3; i += 1) bobSocket.send({ content: `bob while alice is away ${i}`, msg_type: 4, client_msg_id: `away-${bob.userId}-${i}` });
    await bobSocket.next((f) => f.client_msg_id === `away-${bob.userId}-3`);
    const offline = [socket.send({ msg_type: 4, content: 'alice offline 1' }), socket.send({ msg_type: 4, content: 'alice offline 2' })];
    assert.equal(socket.pending.length, 2);

    await cluster.restartGateway(0);
    const acked = await Promise.all(offline.map((o) => o.acked));
    assert.equal(socket.state, 'open');
    assert.ok(states.some((s) => s.state === 'reconnecting'), 'the socket said it was reconnecting');
    assert.deepEqual(socket.pending, []);

    // Bob sees Alice's two, in order.
    for (const message of acked) await bobSocket.next((f) => f.id === message.id);
    const stored = (await storedMessages(cluster.database.url)).filter((m) => m.id > start);
    for (const o of offline) assert.equal(stored.filter((m) => m.clientMsgId === o.clientMsgId).length, 1, 'stored once');
    // Alice has exactly what the room stored since she joined: no gap, no repeat.
    await waitFor(() => received.length >= stored.length);
    assert.deepEqual(
      received.map((m) => m.id),
      stored.map((m) => m.id),
    );
  });

  it('stops and asks for a login when the user logs out (4001), without trying again', async () => {
    const carol = client();
    await signUpWith(carol, `carol${Date.now().toString(36)}`);
    const socket = carol.groupSocket({ url: gateway(1), reconnect: { initialMs: 100, maxMs: 1_000 } });
    sockets.push(socket);
    await socket.connect();
    const closed = new Promise<StateChange>((resolve) => socket.on('closed', resolve));
    const signedOut = new Promise<boolean>((resolve) => carol.on('session', (s, info) => s === null && resolve(info.expired)));
    await carol.logout();
    const change = await closed;
    assert.equal(change.code, 4001);
    assert.equal(change.needsLogin, true);
    assert.equal(await signedOut, false, 'a logout, not an expiry');
    assert.equal(socket.state, 'closed');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
