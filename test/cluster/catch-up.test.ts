import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, waitForId } from '../support/chat-traffic.ts';
import { writeSettingsFile } from '../support/settings-file.ts';
import { storedMessages } from '../support/stored-messages.ts';

const MESSAGES = 24;

/** `im_gateway_catchup_pages_total` by source, from a gateway's /metrics. */
async function catchUpPages(base: string): Promise<{ memory: number; mysql: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (source: string) => Number(new RegExp(`^im_gateway_catchup_pages_total\\{[^}]*source="${source}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { memory: read('memory'), mysql: read('mysql') };
}

/**
 * Catch-up with last_id is served from the room's recent frames in memory when they reach back
 * far enough, and from MySQL (page by page, then memory) when they do not. Either way the client
 * gets exactly the messages after its last_id, in order, then live ones, with no duplicate.
 */
describe('catch-up from memory and from MySQL', () => {
  // About 5 frames fit in the buffer, and pages are small, so an old last_id takes several MySQL
  // pages before memory covers the rest.
  const settings = writeSettingsFile({ gateway: { catchup_buffer_bytes: 3_000, catchup_page_size: 4 } });
  let cluster: TestCluster;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 2, env: { IM_CONFIG: settings.path } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
    settings.remove();
  });

  it('recent last_id from memory, old last_id through MySQL, both exact; then live without repeats', async () => {
    const [listenerUser, senderUser, ...resumers] = await Promise.all(Array.from({ length: 5 }, (_, i) => newUser(cluster, `cu${i}-`)));
    const connect = async (gateway: number, token: string, lastId?: number) => {
      const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, { token, lastId });
      clients.push(client);
      return client;
    };
    // The listener keeps the room live on gw-0, so gw-0's feed delivers (and keeps) every message.
    const listener = await connect(0, listenerUser!.token);
    const sender = await connect(1, senderUser!.token);
    for (let i = 0; i < MESSAGES; i += 1) {
      sender.send({ msg_type: 4, content: `m${i} ${'x'.repeat(200)}` });
      await sender.next((f) => typeof f.content === 'string' && f.content.startsWith(`m${i} `));
    }
    const ids = (await storedMessages(cluster.database.url)).map((m) => m.id);
    assert.equal(ids.length, MESSAGES);
    await waitForId(listener, ids.at(-1)!);
    const gw0 = cluster.gatewayUrls[0]!;

    const before = await catchUpPages(gw0);
    const recent = await connect(0, resumers[0]!.token, ids.at(-3));
    assertSameIds(chatIds(recent), ids.slice(-2), 'last_id 3 back, before the welcome');
    const afterRecent = await catchUpPages(gw0);
    assert.equal(afterRecent.mysql, before.mysql, 'a recent last_id needs no MySQL query');
    assert.ok(afterRecent.memory > before.memory);

    const current = await connect(0, resumers[1]!.token, ids.at(-1));
    assert.deepEqual(chatIds(current), [], 'last_id of the newest message: nothing to catch up');
    assert.equal((await catchUpPages(gw0)).mysql, before.mysql);

    const old = await connect(0, resumers[2]!.token, ids[2]);
    assertSameIds(chatIds(old), ids.slice(3), 'last_id of the 3rd message, before the welcome');
    const afterOld = await catchUpPages(gw0);
    assert.ok(afterOld.mysql >= before.mysql + 2, `several MySQL pages: ${JSON.stringify(afterOld)}`);
    assert.ok(afterOld.memory > afterRecent.memory, 'then the rest from memory');

    // Live messages after the catch-up reach all of them once.
    for (let i = 0; i < 3; i += 1) sender.send({ msg_type: 4, content: `live${i}` });
    await listener.next((f) => f.content === 'live2');
    const all = (await storedMessages(cluster.database.url)).map((m) => m.id);
    assert.equal(all.length, MESSAGES + 3);
    for (const [client, from, name] of [
      [recent, ids.at(-3)!, 'recent'],
      [current, ids.at(-1)!, 'current'],
      [old, ids[2]!, 'old'],
    ] as const) {
      await waitForId(client, all.at(-1)!);
      assertSameIds(chatIds(client), all.filter((id) => id > from), `${name} resumer, after live messages`);
    }
  });
});
