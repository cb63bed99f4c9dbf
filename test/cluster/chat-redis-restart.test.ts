import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImClient } from '@im/client';
import { privateConversation, roomConversation } from '@im/protocol';
import { startCluster, signUpWith, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { waitUntil } from '../support/chat-traffic.ts';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.ts';
import { storedMessages } from '../support/stored-messages.ts';

const readyStatus = async (base: string) => (await fetch(`${base}/readyz`)).status;

/**
 * `/api/chat` through a Redis restart (SIGKILL, no persistence, back on the same port): a socket
 * that stayed connected gets every message stored meanwhile, in order, once; a device that left
 * during the outage resumes with its last ids and gets exactly the rest. Runs its own redis-server.
 */
describe('/api/chat through a Redis restart', () => {
  let redis: TestRedisServer;
  let cluster: TestCluster;
  const clients: ChatClient[] = [];
  const device = async (gateway: number, token: string, lastIds?: Record<string, number>) => {
    const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, { token, kind: 'chat', lastIds });
    clients.push(client);
    return client;
  };
  let sent = 0;
  const send = async (socket: ChatClient, conversation: string, content: string) => {
    const clientMsgId = `s${(sent += 1)}`;
    socket.send({ conversation, msg_type: 4, content, client_msg_id: clientMsgId });
    return (await socket.next((f) => f.client_msg_id === clientMsgId && f.id !== undefined, 60_000)).id as number;
  };
  const contents = (socket: ChatClient, conversation: string) =>
    socket.frames.filter((f) => f.conversation === conversation && f.id !== undefined).map((f) => f.content as string);

  before(async () => {
    redis = await startRedisServer();
    cluster = await startCluster({ gateways: 2, env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    if (redis && !redis.running) await redis.restart().catch(() => {});
    await cluster?.stop();
    await redis?.stop();
  });

  it('a connected socket gets everything stored while Redis was away; a device that left resumes exactly after its last ids', async () => {
    const [ann, bob] = [new ImClient({ baseUrl: cluster.apiUrl }), new ImClient({ baseUrl: cluster.apiUrl })];
    const annUser = await signUpWith(ann, `ann${Date.now()}`);
    const bobUser = await signUpWith(bob, `bob${Date.now()}`);
    const room = roomConversation((await ann.rooms.create({ name: 'outage', memberIds: [bobUser.userId] })).room_id);
    const pair = privateConversation(annUser.userId, bobUser.userId);
    const annStays = await device(0, annUser.token);
    const annLeaves = await device(0, annUser.token);
    const bobSocket = await device(1, bobUser.token);
    const before = [await send(bobSocket, room, 'r0'), await send(bobSocket, pair, 'p0')];
    for (const id of before) await annLeaves.next((f) => f.id === id);

    await redis.kill();
    await Promise.all(cluster.gatewayUrls.map((base) => waitUntil(`${base} not ready`, async () => (await readyStatus(base)) === 503, { timeoutMs: 10_000 })));
    await annLeaves.close();
    for (let i = 1; i <= 3; i += 1) {
      await send(bobSocket, room, `r${i}`);
      await send(bobSocket, pair, `p${i}`);
    }
    await redis.restart();
    await Promise.all(cluster.gatewayUrls.map((base) => waitUntil(`${base} ready`, async () => (await readyStatus(base)) === 200, { timeoutMs: 30_000 })));
    const lastIds = [await send(bobSocket, room, 'r4'), await send(bobSocket, pair, 'p4')];
    // MySQL holds every message of the outage.
    assert.deepEqual((await storedMessages(cluster.database.url, room)).map((m) => m.content), ['r0', 'r1', 'r2', 'r3', 'r4']);
    for (const id of lastIds) await annStays.next((f) => f.id === id, 30_000);
    assert.deepEqual(contents(annStays, room), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(contents(annStays, pair), ['p0', 'p1', 'p2', 'p3', 'p4']);

    const back = await device(1, annUser.token, { [room]: before[0]!, [pair]: before[1]! });
    assert.deepEqual(contents(back, room), ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(contents(back, pair), ['p1', 'p2', 'p3', 'p4']);
  });
});
