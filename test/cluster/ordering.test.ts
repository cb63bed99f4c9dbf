import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, waitForId, waitUntil } from '../support/chat-traffic.ts';
import { PresenceState } from '../support/presence-state.ts';
import { writeSettingsFile } from '../support/settings-file.ts';
import { storedMessages } from '../support/stored-messages.ts';

const SENDERS = 4;
const PER_BURST = 50;
const BURSTS = 2;

/**
 * Several users on different gateways send bursts at the same time, without waiting for anything.
 * Every client must see the group's messages in stored order (strictly increasing id, no gap
 * against MySQL), and each sender's messages in the order that sender sent them.
 */
describe('order under concurrent senders', () => {
  // The default 20 messages/s per socket would refuse most of a 50-message burst.
  const settings = writeSettingsFile({ gateway: { messages_per_second: 1_000 } });
  let cluster: TestCluster;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 3, env: { IM_CONFIG: settings.path } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
    settings.remove();
  });

  it(`${SENDERS} senders × ${PER_BURST} messages × ${BURSTS} bursts on 3 gateways: stored order everywhere, sender order kept`, async () => {
    const senderUsers = await Promise.all(Array.from({ length: SENDERS }, (_, i) => newUser(cluster, `s${i}`)));
    const receiverUsers = await Promise.all([0, 1, 2].map((i) => newUser(cluster, `r${i}`)));
    const connect = async (gateway: number, token: string) => {
      const client = await ChatClient.connect(cluster.gatewayUrls[gateway % 3]!, { token });
      clients.push(client);
      return client;
    };
    const receivers = await Promise.all(receiverUsers.map((u, i) => connect(i, u.token)));
    const senders = await Promise.all(senderUsers.map((u, i) => connect(i, u.token)));
    const presence = PresenceState.of(cluster);
    try {
      await waitUntil('everyone online', async () => (await presence.users()).size === SENDERS + 3);
    } finally {
      presence.close();
    }

    // A client that joins in the middle of the last burst, catching up from the first one.
    const lateUser = await newUser(cluster, 'late');
    let late: Promise<ChatClient> | undefined;
    let lateFrom = 0;
    for (let burst = 0; burst < BURSTS; burst += 1) {
      for (let n = 0; n < PER_BURST; n += 1) {
        for (const [i, sender] of senders.entries()) {
          const id = `b${burst}-s${i}-${n}`;
          sender.send({ content: id, msg_type: 4, client_msg_id: id });
        }
        if (burst === BURSTS - 1 && n === PER_BURST / 2) {
          lateFrom = (await storedMessages(cluster.database.url))[PER_BURST]!.id;
          late = ChatClient.connect(cluster.gatewayUrls[2]!, { token: lateUser.token, lastId: lateFrom });
        }
      }
      const expected = (burst + 1) * PER_BURST * SENDERS;
      await waitUntil(`${expected} messages stored`, async () => (await storedMessages(cluster.database.url)).length >= expected, {
        timeoutMs: 60_000,
      });
    }

    const stored = await storedMessages(cluster.database.url);
    assert.equal(stored.length, SENDERS * PER_BURST * BURSTS, 'every message stored exactly once');
    // The store's own invariant: seq 1, 2, 3, … in id order.
    assert.deepEqual(stored.map((m) => m.seq), stored.map((_, i) => i + 1), 'seq has no gap and grows with id');
    const allIds = stored.map((m) => m.id);
    const finalId = allIds.at(-1)!;

    const lateClient = await late!;
    clients.push(lateClient);
    await waitForId(lateClient, finalId, 30_000);
    assertSameIds(chatIds(lateClient), allIds.filter((id) => id > lateFrom), `client joining mid-burst with last_id=${lateFrom}`);

    const everyone = [...receivers.map((c, i) => [c, `receiver on gw${i}`] as const), ...senders.map((c, i) => [c, `sender ${i} on gw${i % 3}`] as const)];
    for (const [client, name] of everyone) {
      await waitForId(client, finalId, 30_000);
      assert.deepEqual(client.frames.filter((f) => f.msg_type === 1 && f.code !== 0), [], `${name}: no refusals`);
      assertSameIds(chatIds(client), allIds, name);
      // Each sender's messages appear in the order it sent them.
      for (const [i, user] of senderUsers.entries()) {
        const got = client.frames.filter((f) => f.id !== undefined && f.user_id === user.userId).map((f) => f.content);
        const sent = Array.from({ length: BURSTS * PER_BURST }, (_, k) => `b${Math.floor(k / PER_BURST)}-s${i}-${k % PER_BURST}`);
        assert.deepEqual(got, sent, `${name}: sender ${i}'s messages in sending order`);
      }
    }
    // MySQL agrees on each sender's order.
    for (const [i, user] of senderUsers.entries()) {
      const rows = stored.filter((m) => m.senderId === user.userId).map((m) => m.content);
      assert.deepEqual(rows, Array.from({ length: BURSTS * PER_BURST }, (_, k) => `b${Math.floor(k / PER_BURST)}-s${i}-${k % PER_BURST}`));
    }
  });
});
