import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStored, roomChannel } from '@im/bus';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { assertSameIds, chatIds, waitForId } from '../../../test/support/chat-traffic.ts';
import { startInProcessCluster, type InProcessCluster } from './support/in-process-gateways.ts';

/** Every stored group message's id, in seq order. */
async function storedIds(cluster: InProcessCluster): Promise<number[]> {
  const frames = await cluster.reader.framesFromSeq('group', 1, 10_000);
  return frames.map((frame) => frame.id);
}

/** catch-up pages served by one gateway, by source. */
async function catchUpPages(cluster: InProcessCluster, gateway: number): Promise<{ memory: number; mysql: number }> {
  const metric = await cluster.gateways[gateway]!.metrics.catchUpPages.get();
  const read = (source: string) => metric.values.find((v) => v.labels.source === source)?.value ?? 0;
  return { memory: read('memory'), mysql: read('mysql') };
}

/**
 * The gateway's ordered fan-out in one process: two gateways on the memory broker and memory
 * presence, real sockets and MariaDB.
 */
describe('fan-out in process: order, gap fill, catch-up', () => {
  let cluster: InProcessCluster;
  const clients: ChatClient[] = [];
  const connect = async (gateway: number, token: string, lastId?: number) => {
    const client = await ChatClient.connect(cluster.gateways[gateway]!.url, { token, lastId });
    clients.push(client);
    return client;
  };

  before(async () => {
    // Small pages and a buffer of a few frames: catch-up takes both the MySQL and the memory path.
    cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000, catchup_page_size: 4, catchup_buffer_bytes: 3_000 } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.close();
  });

  it('concurrent senders on two gateways: stored order on every socket, each sender in sending order', async () => {
    const senders = await Promise.all([0, 1, 2].map(async (i) => connect(i % 2, (await cluster.newUser(`s${i}-`)).token)));
    const receivers = await Promise.all([0, 1].map(async (i) => connect(i, (await cluster.newUser(`r${i}-`)).token)));
    const before = (await storedIds(cluster)).length;
    for (let n = 0; n < 30; n += 1) {
      for (const [i, sender] of senders.entries()) sender.send({ msg_type: 4, content: `o${i}-${n}`, client_msg_id: `o${i}-${n}` });
    }
    for (const sender of senders) await sender.next((f) => f.client_msg_id === `o${senders.indexOf(sender)}-29` && f.id !== undefined);
    const ids = (await storedIds(cluster)).slice(before);
    assert.equal(ids.length, 90);
    for (const [name, client] of [...senders.map((c, i) => [`sender ${i}`, c] as const), ...receivers.map((c, i) => [`receiver on gw${i}`, c] as const)]) {
      await waitForId(client, ids.at(-1)!);
      assertSameIds(chatIds(client).filter((id) => id >= ids[0]!), ids, name);
      for (let i = 0; i < senders.length; i += 1) {
        const mine = client.frames.filter((f) => typeof f.content === 'string' && f.content.startsWith(`o${i}-`)).map((f) => f.content);
        assert.deepEqual(mine, Array.from({ length: 30 }, (_, n) => `o${i}-${n}`), `${name}: sender ${i} in sending order`);
      }
    }
  });

  it('a message that arrives ahead of one never published waits, then MySQL fills the gap in order', async () => {
    const writerUser = await cluster.newUser('quiet');
    const watcher = await connect(0, (await cluster.newUser('gap')).token);
    const missing = await cluster.storeQuietly(writerUser, 'never published');
    const ahead = await cluster.storeQuietly(writerUser, 'published ahead');
    const [frame] = await cluster.reader.framesFromSeq('group', ahead.seq, 1);
    await cluster.outsider.publish(roomChannel('group'), encodeStored('group', ahead.seq, ahead.id, Date.now(), frame!.bytes.toString()));
    await waitForId(watcher, ahead.id);
    const got = watcher.frames.filter((f) => f.id === missing.id || f.id === ahead.id).map((f) => f.content);
    assert.deepEqual(got, ['never published', 'published ahead']);
  });

  it('ignores bus payloads it cannot read (another version, garbage) and keeps delivering', async () => {
    const sender = await connect(1, (await cluster.newUser('after')).token);
    const watcher = await connect(0, (await cluster.newUser('watch')).token);
    const warnings = cluster.logs.length;
    await cluster.outsider.publish(roomChannel('group'), 'm\t999\t1764000000000\t{"id":1}');
    await cluster.outsider.publish(roomChannel('group'), Buffer.from([0xff, 0x00, 0x09]));
    sender.send({ msg_type: 4, content: 'still flowing' });
    const frame = await watcher.next((f) => f.content === 'still flowing');
    assert.ok(cluster.logs.slice(warnings).some((line) => line.msg === 'undecodable bus payload ignored'));
    assert.equal(watcher.frames.filter((f) => f.id === 1 && f.content === undefined).length, 0);
    assert.ok(frame.id > 0);
  });

  it('catch-up from memory and from MySQL while messages keep coming: no gap, no duplicate', async () => {
    const sender = await connect(1, (await cluster.newUser('flow')).token);
    // Keeps gw0's feed live, so it holds recent frames.
    const listener = await connect(0, (await cluster.newUser('keep')).token);
    for (let i = 0; i < 12; i += 1) {
      sender.send({ msg_type: 4, content: `h${i} ${'x'.repeat(200)}` });
      await listener.next((f) => typeof f.content === 'string' && f.content.startsWith(`h${i} `));
    }
    const ids = await storedIds(cluster);
    const pagesBefore = await catchUpPages(cluster, 0);
    // Resumers connect while the sender keeps sending, from a recent and an old last_id.
    const flowing = Array.from({ length: 6 }, (_, i) => `live${i}`);
    const sending = (async () => {
      for (const content of flowing) {
        sender.send({ msg_type: 4, content });
        await sender.next((f) => f.content === content);
      }
    })();
    const resumers = await Promise.all(
      [ids.at(-2)!, ids.at(-11)!, ids.at(-1)!].map(async (lastId, i) => ({ lastId, client: await connect(0, (await cluster.newUser(`res${i}-`)).token, lastId) })),
    );
    await sending;
    const all = await storedIds(cluster);
    for (const { lastId, client } of resumers) {
      await waitForId(client, all.at(-1)!);
      assertSameIds(chatIds(client), all.filter((id) => id > lastId), `resumed after ${lastId}`);
    }
    const pagesAfter = await catchUpPages(cluster, 0);
    assert.ok(pagesAfter.memory > pagesBefore.memory, `memory pages: ${JSON.stringify(pagesAfter)}`);
    assert.ok(pagesAfter.mysql > pagesBefore.mysql, `MySQL pages: ${JSON.stringify(pagesAfter)}`);
  });
});
