import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { revocationChannel } from '@im/auth';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { assertSameIds, chatIds, sendFlushed, waitForId } from '../../../test/support/chat-traffic.ts';
import { startInProcessCluster, type InProcessCluster } from './support/in-process-gateways.ts';

/** What a gateway metric counter says now (summed over labels). */
async function counter(metric: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Sockets' lives in one process: revocation, slow consumers, drain. */
describe('sessions in process: revocation, shedding, drain', () => {
  let cluster: InProcessCluster;
  const clients: ChatClient[] = [];
  const connect = async (gateway: number, token: string) => {
    const client = await ChatClient.connect(cluster.gateways[gateway]!.url, { token });
    clients.push(client);
    return client;
  };

  before(async () => {
    cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000, max_buffered_bytes: 65_536 } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.close();
  });

  it('a logout published on the bus closes that token’s sockets on every gateway (4001), and only those', async () => {
    const user = await cluster.newUser('out');
    const sockets = await Promise.all([0, 1, 0].map((g) => connect(g, user.token)));
    const bystander = await connect(1, (await cluster.newUser('stay')).token);
    // What the API does on logout (through @im/auth on Redis): mark the token, then publish its jti.
    await cluster.revocations.revoke(user.jti, new Date(Date.now() + 60_000));
    await cluster.outsider.publish(revocationChannel(''), user.jti);
    const closes = await Promise.all(sockets.map((s) => s.closed));
    assert.deepEqual(closes.map((c) => c.code), [4001, 4001, 4001]);
    assert.equal(bystander.ws.readyState, bystander.ws.OPEN);
    await assert.rejects(ChatClient.connect(cluster.gateways[0]!.url, { token: user.token }), /401/);
  });

  it('sheds a consumer that stops reading instead of buffering without bound; readers go on', async () => {
    const shedBefore = await counter(cluster.gateways[0]!.metrics.shed);
    const senders = await Promise.all([0, 1, 2, 3].map(async (i) => connect(i % 2, (await cluster.newUser(`fast${i}-`)).token)));
    const lazy = await connect(0, (await cluster.newUser('slow')).token);
    // Stop reading: the kernel buffers fill, then the gateway's own send buffer for this socket.
    (lazy.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const text = '满'.repeat(3_990); // ~12 KB per frame
    for (let round = 0; lazy.ws.readyState === lazy.ws.OPEN && (await counter(cluster.gateways[0]!.metrics.shed)) === shedBefore; round += 1) {
      assert.ok(round < 2_000, 'the lazy socket was never shed');
      await Promise.all(
        senders.map(async (sender, i) => {
          const content = `${text}${round}-${i}`;
          sender.send({ msg_type: 4, content });
          await sender.next((f) => f.content === content, 10_000, Math.max(0, sender.frames.length - 8));
        }),
      );
    }
    assert.equal(await counter(cluster.gateways[0]!.metrics.shed), shedBefore + 1);
    for (const sender of senders) assert.equal(sender.ws.readyState, sender.ws.OPEN, 'readers are not affected');
    lazy.ws.terminate();
  });

  it('drain: 1012 to its clients, what they sent just before is stored and delivered elsewhere, leaves announced at once', async () => {
    const [k1, k2, obs] = await Promise.all(['k', 'k', 'obs'].map((label) => cluster.newUser(label)));
    const observer = await connect(1, obs!.token);
    const drained = await Promise.all([k1!, k2!].map((user) => connect(0, user.token)));
    await Promise.all([k1!, k2!].map((u) => observer.next((f) => f.msg_type === 2 && f.user_id === u.userId)));
    const sent: string[] = [];
    await Promise.all(
      drained.map(async (client, i) => {
        for (let n = 0; n < 10; n += 1) {
          const id = `last-${i}-${n}`;
          sent.push(id);
          await sendFlushed(client, { content: id, msg_type: 4, client_msg_id: id });
        }
      }),
    );
    const gateway = cluster.gateways[0]!;
    gateway.drained = true;
    await gateway.gateway.drain();
    const closes = await Promise.all(drained.map((c) => c.closed));
    assert.deepEqual(closes.map((c) => c.code), [1012, 1012]);

    const stored = await cluster.reader.framesFromSeq('group', 1, 10_000);
    const storedClientIds = new Set(stored.map((frame) => JSON.parse(frame.bytes.toString()).client_msg_id));
    assert.deepEqual(sent.filter((id) => !storedClientIds.has(id)), [], 'sent just before the drain and not stored');
    const ids = stored.map((frame) => frame.id);
    await waitForId(observer, ids.at(-1)!);
    assertSameIds(chatIds(observer), ids.filter((id) => id >= chatIds(observer)[0]!), 'observer on the other gateway');
    for (const user of [k1!, k2!]) await observer.next((f) => f.msg_type === 3 && f.user_id === user.userId, 2_000);
    await assert.rejects(ChatClient.connect(gateway.url, { token: obs!.token }));
  });
});
