import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImClient } from '@im/client';
import { privateConversation, roomConversation } from '@im/protocol';
import { startCluster, signUpWith, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

let counter = 0;

/**
 * `ws /api/chat` black-box, on real API and gateway processes: one socket per device carries
 * every conversation of its user, on every gateway; rooms change through the API; the inbox,
 * read receipts, typing and signed file links agree with the sockets.
 */
describe('/api/chat across gateways (one socket per device)', () => {
  let cluster: TestCluster;
  const clients: ChatClient[] = [];
  const user = async (label: string) => {
    const im = new ImClient({ baseUrl: cluster.apiUrl });
    counter += 1;
    const account = await signUpWith(im, `${label}${counter}${Math.random().toString(36).slice(2, 7)}`);
    return { ...account, im };
  };
  const device = async (gateway: number, token: string, lastIds?: Record<string, number>) => {
    const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, { token, kind: 'chat', lastIds });
    clients.push(client);
    return client;
  };
  const send = async (socket: ChatClient, conversation: string, content: string) => {
    const clientMsgId = `m${(counter += 1)}`;
    socket.send({ conversation, msg_type: 4, content, client_msg_id: clientMsgId });
    return (await socket.next((f) => f.client_msg_id === clientMsgId && f.id !== undefined)).id as number;
  };

  before(async () => {
    cluster = await startCluster({ gateways: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await cluster?.stop();
  });

  it('devices on two gateways see everything; a stranger’s first message arrives live; the inbox counts it unread', async () => {
    const [ann, bob] = [await user('ann'), await user('bob')];
    const annPhone = await device(0, ann.token);
    const annLaptop = await device(1, ann.token);
    const bobSocket = await device(1, bob.token);
    const pair = privateConversation(ann.userId, bob.userId);
    await send(bobSocket, pair, '你好，我是 bob');
    for (const socket of [annPhone, annLaptop]) {
      const frame = await socket.next((f) => f.conversation === pair && f.id !== undefined);
      assert.deepEqual([frame.content, frame.user_id, frame.target_id], ['你好，我是 bob', bob.userId, ann.userId]);
    }
    const reply = await send(annPhone, pair, '你好 bob');
    await annLaptop.next((f) => f.id === reply);
    await bobSocket.next((f) => f.id === reply);
    await send(bobSocket, pair, '在吗？');
    const inbox = await ann.im.conversations.list();
    const item = inbox.list.find((c) => c.conversation === pair)!;
    assert.equal(item.kind, 'private');
    assert.equal(item.unread_count, 1);
    assert.equal(item.last_message?.content, '在吗？');
  });

  it('rooms: a created room reaches its members at once; a removed member stops receiving it on every gateway and gets 404', async () => {
    const [owner, member] = [await user('own'), await user('mem')];
    const ownerSocket = await device(0, owner.token);
    const memberSockets = [await device(0, member.token), await device(1, member.token)];
    const room = await owner.im.rooms.create({ name: '读书会', memberIds: [member.userId] });
    const conversation = roomConversation(room.room_id);
    for (const socket of memberSockets) await socket.next((f) => f.msg_type === 11 && f.event === 'created');
    const first = await send(ownerSocket, conversation, '今晚读第三章');
    for (const socket of memberSockets) await socket.next((f) => f.id === first);

    await owner.im.rooms.removeMember(room.room_id, member.userId);
    for (const socket of memberSockets) await socket.next((f) => f.msg_type === 11 && f.event === 'member_removed' && f.user_id === member.userId);
    await send(ownerSocket, conversation, '他走了');
    // The private marker travels the same gateways after the room message: when it arrives, the room message would have.
    const marker = await send(ownerSocket, privateConversation(owner.userId, member.userId), 'marker');
    for (const socket of memberSockets) {
      await socket.next((f) => f.id === marker);
      assert.equal(socket.frames.some((f) => f.content === '他走了'), false);
    }
    await assert.rejects(member.im.rooms.get(room.room_id), (err: any) => err.status === 404);
  });

  it('read receipts reach the sender and the reader’s other devices; typing reaches the peer; the inbox agrees', async () => {
    const [cat, dan] = [await user('cat'), await user('dan')];
    const catSockets = [await device(0, cat.token), await device(1, cat.token)];
    const danSocket = await device(1, dan.token);
    const pair = privateConversation(cat.userId, dan.userId);
    const ids = [await send(danSocket, pair, 'one'), await send(danSocket, pair, 'two')];
    catSockets[0]!.send({ conversation: pair, msg_type: 8 });
    await danSocket.next((f) => f.msg_type === 8 && f.user_id === cat.userId);
    catSockets[0]!.send({ conversation: pair, msg_type: 9, last_read_id: ids[1] });
    for (const socket of [danSocket, catSockets[1]!]) {
      const receipt = await socket.next((f) => f.msg_type === 9);
      assert.deepEqual([receipt.user_id, receipt.last_read_id], [cat.userId, ids[1]]);
    }
    const item = (await cat.im.conversations.list()).list.find((c) => c.conversation === pair)!;
    assert.deepEqual([item.unread_count, item.last_read_id], [0, ids[1]]);
  });

  it('an image frame carries a signed url that downloads without a header', async () => {
    const [eve, fay] = [await user('eve'), await user('fay')];
    const room = await eve.im.rooms.create({ name: 'pictures', memberIds: [fay.userId] });
    const conversation = roomConversation(room.room_id);
    const eveSocket = await device(0, eve.token);
    const faySocket = await device(1, fay.token);
    const uploaded = await eve.im.files.upload(new Blob([PNG], { type: 'image/png' }), { conversation, fileName: 'dot.png' });
    eveSocket.send({ conversation, msg_type: 7, content: '', file: { name: uploaded.file_name }, client_msg_id: 'img' });
    const frame = await faySocket.next((f) => f.conversation === conversation && f.msg_type === 7);
    assert.match(frame.file.url, /^api\/files\/download\?file=.+&expires=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const download = await fetch(`${cluster.apiUrl}/${frame.file.url}`);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), PNG);
    assert.equal((await fetch(`${cluster.apiUrl}/${frame.file.path}`)).status, 401);
  });

  it('resume after kill -9 of a gateway: every later message in order, then live ones, nothing twice', async () => {
    const [gus, hal] = [await user('gus'), await user('hal')];
    const room = await gus.im.rooms.create({ name: 'crash', memberIds: [hal.userId] });
    const conversation = roomConversation(room.room_id);
    const pair = privateConversation(gus.userId, hal.userId);
    const halSocket = await device(1, hal.token);
    const gusOnDoomed = await device(0, gus.token);
    const seen = [await send(halSocket, conversation, 'r1'), await send(halSocket, pair, 'p1')];
    for (const id of seen) await gusOnDoomed.next((f) => f.id === id);
    cluster.gateways[0]!.child.kill('SIGKILL');
    await gusOnDoomed.closed;
    const missed = [];
    for (let i = 2; i <= 4; i += 1) missed.push(await send(halSocket, conversation, `r${i}`), await send(halSocket, pair, `p${i}`));
    const back = await device(1, gus.token, { [conversation]: seen[0]!, [pair]: seen[1]! });
    const ids = (c: string) => back.frames.filter((f) => f.conversation === c && f.id !== undefined).map((f) => f.content);
    assert.deepEqual(ids(conversation), ['r2', 'r3', 'r4']);
    assert.deepEqual(ids(pair), ['p2', 'p3', 'p4']);
    const live = await send(halSocket, conversation, 'r5');
    await back.next((f) => f.id === live);
    assert.deepEqual(ids(conversation), ['r2', 'r3', 'r4', 'r5']);
    await cluster.restartGateway(0);
  });

  it('peer presence does not flap over kill -9: back within the grace, nobody is told; away past it, peers are told once', async () => {
    const [ivy, jon, kai] = [await user('ivy'), await user('jon'), await user('kai')];
    const jonSocket = await device(1, jon.token);
    const ivyPair = privateConversation(ivy.userId, jon.userId);
    const kaiPair = privateConversation(kai.userId, jon.userId);
    const ivyOnDoomed = await device(0, ivy.token);
    const kaiOnDoomed = await device(0, kai.token);
    await send(ivyOnDoomed, ivyPair, 'hi jon');
    await send(kaiOnDoomed, kaiPair, 'hi jon');
    const seenBefore = jonSocket.frames.length;
    cluster.gateways[0]!.child.kill('SIGKILL');
    // The survivors reap gateway 0 once its lease runs out: then the inbox shows both offline.
    const offlineInInbox = async () => {
      const { list } = await jon.im.conversations.list();
      return list.filter((c) => c.peer && !c.peer.online && [ivy.userId, kai.userId].includes(c.peer.user_id)).length === 2;
    };
    const deadline = Date.now() + 15_000;
    while (!(await offlineInInbox())) {
      assert.ok(Date.now() < deadline, 'gateway 0 was not reaped');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // ivy is back within the grace (2 s in these clusters), on the other gateway; kai stays away.
    await device(1, ivy.token);
    const kaiGone = await jonSocket.next((f) => f.msg_type === 3 && f.user_id === kai.userId, 15_000, seenBefore);
    assert.equal(kaiGone.conversation, kaiPair);
    // ivy's notice was due with kai's (give the next check of due notices a second): one told by now arrives before this message.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const marker = await send(jonSocket, ivyPair, 'are you there?');
    await jonSocket.next((f) => f.id === marker);
    const about = (userId: string) => jonSocket.frames.slice(seenBefore).filter((f) => (f.msg_type === 2 || f.msg_type === 3) && f.user_id === userId);
    assert.deepEqual(about(ivy.userId), []);
    assert.equal(about(kai.userId).length, 1);
    await cluster.restartGateway(0);
  });
});
