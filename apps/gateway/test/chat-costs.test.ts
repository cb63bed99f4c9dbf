import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { roomChannel, userChannel } from '@im/bus';
import { createSqlRunner, insertRoom, type SqlRunner } from '@im/db';
import { privateConversation, roomConversation } from '@im/protocol';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { waitUntil } from '../../../test/support/chat-traffic.ts';
import { startInProcessCluster, type InProcessCluster, type InProcessGateway, type TestUser } from './support/in-process-gateways.ts';

/** `im_gateway_publishes_total` by kind, as the gateway's /metrics reports it. */
async function publishesCounted(gateway: InProcessGateway): Promise<Record<string, number>> {
  const { values } = await gateway.metrics.publishes.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.kind), v.value]));
}

/** What `/api/chat` costs on the bus: publishes per message, subscriptions per gateway. */
describe('/api/chat in process: bus costs', () => {
  let cluster: InProcessCluster;
  let sql: SqlRunner;
  const clients: ChatClient[] = [];
  const device = async (gateway: number, user: TestUser) => {
    const client = await ChatClient.connect(cluster.gateways[gateway]!.url, { token: user.token, kind: 'chat' });
    clients.push(client);
    return client;
  };

  before(async () => {
    cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000 }, feedIdleMs: 50 });
    sql = createSqlRunner({ url: cluster.database.url, connectionLimit: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sql?.close();
    await cluster?.close();
  });

  it('one publish per room message, two per private message; one subscription per room per gateway, dropped after the last socket leaves', async () => {
    const users = await Promise.all(['a', 'b', 'c'].map((n) => cluster.newUser(n)));
    const roomId = randomBytes(6).toString('hex');
    await insertRoom(sql, { roomId, name: 'costs', ownerId: users[0]!.userId, memberIds: [users[1]!.userId, users[2]!.userId], at: new Date() });
    const room = roomConversation(roomId);
    const gateway = cluster.gateways[0]!;
    const sockets = [await device(0, users[0]!), await device(0, users[1]!), await device(0, users[1]!), await device(1, users[2]!)];
    assert.equal(gateway.bus.subscribed.get(roomChannel(room)), 1, 'three sockets in the room, one subscription');

    const published = gateway.bus.published.length;
    sockets[0]!.send({ conversation: room, msg_type: 4, content: 'to the room', client_msg_id: 'room1' });
    for (const socket of sockets) await socket.next((f) => f.content === 'to the room');
    assert.deepEqual(gateway.bus.published.slice(published), [roomChannel(room)]);
    assert.deepEqual(await publishesCounted(gateway), { message: 1 }, 'the publish metric counts what the bus was given');

    const pair = privateConversation(users[0]!.userId, users[2]!.userId);
    const before = gateway.bus.published.length;
    sockets[0]!.send({ conversation: pair, msg_type: 4, content: 'to c', client_msg_id: 'pair1' });
    await sockets[3]!.next((f) => f.content === 'to c');
    assert.deepEqual(gateway.bus.published.slice(before).sort(), [userChannel(users[0]!.userId), userChannel(users[2]!.userId)].sort());
    sockets[0]!.send({ conversation: room, msg_type: 8 });
    await sockets[3]!.next((f) => f.msg_type === 8);
    assert.deepEqual(await publishesCounted(gateway), { message: 3, transient: 1 }, 'typing counts apart from messages');

    await Promise.all(sockets.slice(0, 3).map((socket) => socket.close()));
    await waitUntil('the room channel dropped on gateway 0', async () => !gateway.bus.subscribed.has(roomChannel(room)));
    assert.equal(cluster.gateways[1]!.bus.subscribed.get(roomChannel(room)), 1, 'gateway 1 still has a socket in the room');
  });
});
