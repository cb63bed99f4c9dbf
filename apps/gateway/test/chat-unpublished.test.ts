import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { privateConversation } from '@im/protocol';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { startInProcessCluster, type InProcessCluster, type TestUser } from './support/in-process-gateways.ts';

/**
 * Private messages a gateway stored and never published (it died in between): the peer's
 * `/api/chat` sockets have no feed of the chat that could notice, yet must get them, in order.
 */
function unpublishedSuite(title: string, tailCheckMs: number, body: (world: World) => void): void {
  describe(title, () => {
    const world = {} as World;
    const clients: ChatClient[] = [];
    before(async () => {
      world.cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000 }, tailCheckMs });
      world.device = async (gateway, user) => {
        const client = await ChatClient.connect(world.cluster.gateways[gateway]!.url, { token: user.token, kind: 'chat' });
        clients.push(client);
        return client;
      };
      world.storeQuietly = async (from, to, content, clientMsgId = null) => {
        const conversation = privateConversation(from.userId, to.userId);
        await world.cluster.writer.write({ conversation, senderId: from.userId, targetId: to.userId, msgType: 4, content, clientMsgId, fileId: null, onlineCount: 1 });
      };
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await world.cluster?.close();
    });
    body(world);
  });
}

interface World {
  cluster: InProcessCluster;
  device(gateway: number, user: TestUser): Promise<ChatClient>;
  storeQuietly(from: TestUser, to: TestUser, content: string, clientMsgId?: string | null): Promise<void>;
}

const texts = (socket: ChatClient, conversation: string) => socket.frames.filter((f) => f.conversation === conversation && f.id !== undefined).map((f) => f.content);

unpublishedSuite('/api/chat in process: the periodic check finds unpublished private messages', 300, (world) => {
  it('the first message of a chat, stored and never published, reaches the peer’s devices on both gateways, once', async () => {
    const [dan, eve] = await Promise.all(['dan', 'eve'].map((n) => world.cluster.newUser(n)));
    const danPhone = await world.device(0, dan!);
    const danLaptop = await world.device(1, dan!);
    const danEve = privateConversation(dan!.userId, eve!.userId);
    await world.storeQuietly(eve!, dan!, '存了但没发布');
    for (const socket of [danPhone, danLaptop]) {
      const frame = await socket.next((f) => f.conversation === danEve && f.content === '存了但没发布', 5_000);
      assert.equal(frame.target_id, dan!.userId);
    }
    // The feed it made goes on in order; later checks (the scan overlaps) deliver nothing twice.
    await world.storeQuietly(eve!, dan!, '第二条也没发布');
    await danPhone.next((f) => f.conversation === danEve && f.content === '第二条也没发布', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const socket of [danPhone, danLaptop]) assert.deepEqual(texts(socket, danEve), ['存了但没发布', '第二条也没发布']);
  });
});

// No periodic check runs here: only the new feed's look back can deliver the unpublished message.
unpublishedSuite('/api/chat in process: a new private feed looks back for unpublished messages', 600_000, (world) => {
  it('a resend answered to its sender alone, then a next message: the peer gets both, in order, at once', async () => {
    const [fay, gus] = await Promise.all(['fay', 'gus'].map((n) => world.cluster.newUser(n)));
    const gusPhone = await world.device(0, gus!);
    const gusLaptop = await world.device(1, gus!);
    const fayNew = await world.device(1, fay!);
    const fayGus = privateConversation(fay!.userId, gus!.userId);
    // Fay's gateway stored her message and died; she resends it on another one, then writes on.
    await world.storeQuietly(fay!, gus!, '第一条', 'f1');
    fayNew.send({ conversation: fayGus, msg_type: 4, content: '第一条', client_msg_id: 'f1' });
    await fayNew.next((f) => f.client_msg_id === 'f1' && f.id !== undefined);
    fayNew.send({ conversation: fayGus, msg_type: 4, content: '第二条', client_msg_id: 'f2' });
    for (const socket of [gusPhone, gusLaptop]) {
      await socket.next((f) => f.conversation === fayGus && f.content === '第二条', 3_000);
      assert.deepEqual(texts(socket, fayGus), ['第一条', '第二条']);
    }
  });
});
