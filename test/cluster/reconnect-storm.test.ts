import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, lastChatId, startChatter, waitForId, waitUntil, type Chatter } from '../support/chat-traffic.ts';
import { PresenceState } from '../support/presence-state.ts';
import { writeSettingsFile } from '../support/settings-file.ts';
import { storedMessages } from '../support/stored-messages.ts';

const CLIENTS = 30;

/**
 * 30 clients on one gateway, which is killed (SIGKILL) while messages flow: each client saw a
 * different amount; all reconnect at once, with their last_id, to the two other gateways, while
 * messages keep flowing. Nobody misses or repeats a message, and presence settles right.
 */
describe('reconnect storm after a gateway crash', () => {
  // 33 sign-ups from one IP would trip the default register/login limits (20 and 30 per window),
  // and the doomed sender below sends faster than the default 20 messages/s.
  const settings = writeSettingsFile({
    rate_limit: { register_per_ip: 1_000, login_per_ip: 1_000 },
    gateway: { messages_per_second: 1_000 },
  });
  let cluster: TestCluster;
  let presence: PresenceState;
  let chatter: Chatter | undefined;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 3, env: { IM_CONFIG: settings.path } });
    presence = PresenceState.of(cluster);
  });
  after(async () => {
    await chatter?.stop().catch(() => {});
    await Promise.all(clients.map((c) => c.close()));
    presence?.close();
    await cluster?.stop();
    settings.remove();
  });

  it(`${CLIENTS} clients of a killed gateway all reconnect with last_id and miss nothing`, async () => {
    const users = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => newUser(cluster, `storm${i}-`)));
    const [talker1, talker2, doomed] = await Promise.all([newUser(cluster, 'talk'), newUser(cluster, 'talk'), newUser(cluster, 'doomed')]);
    const t1 = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: talker1!.token });
    const t2 = await ChatClient.connect(cluster.gatewayUrls[2]!, { token: talker2!.token });
    clients.push(t1, t2);
    const first = await Promise.all(users.map((u) => ChatClient.connect(cluster.gatewayUrls[0]!, { token: u.token })));
    clients.push(...first);
    // A user on the doomed gateway sends without waiting, so the crash hits messages in every
    // state: stored and published, stored but never published, never stored.
    const d = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: doomed!.token });
    clients.push(d);
    await waitUntil('everyone online', async () => (await presence.users()).size === CLIENTS + 3);

    chatter = startChatter([t1, t2], { label: 'storm', intervalMs: 20 });
    await chatter.waitForMore(10);
    await Promise.all(first.map((c) => c.next(() => chatIds(c).length >= 5)));

    const doomedTimer = setInterval(() => {
      if (d.ws.readyState === d.ws.OPEN) d.send({ content: 'from the doomed gateway', msg_type: 4 });
    }, 5);
    await d.next(() => d.frames.filter((f) => f.content === 'from the doomed gateway').length >= 30);
    // Crash while messages are on their way to the clients.
    cluster.gateways[0]!.child.kill('SIGKILL');
    await Promise.all([...first, d].map((c) => c.closed));
    clearInterval(doomedTimer);
    const seenLast = first.map((c) => lastChatId(c)!);
    // Most resume from the last message they saw; some from a few before it (an app that had not
    // yet saved its position), so the gateways serve many different catch-up points at once.
    const lastIds = first.map((c, i) => chatIds(c).at(-1 - (i % 5))!);
    console.log(`last ids seen before the crash: ${[...new Set(seenLast)].join(', ')}; resuming from ${[...new Set(lastIds)].sort((x, y) => x - y).join(', ')}`);

    // Everybody at once, alternating between the two survivors.
    const second = await Promise.all(
      users.map((u, i) => ChatClient.connect(cluster.gatewayUrls[1 + (i % 2)]!, { token: u.token, lastId: lastIds[i] })),
    );
    clients.push(...second);
    await chatter.waitForMore(20);
    await chatter.stop();
    assert.deepEqual(chatter.failures, []);

    const stored = await storedMessages(cluster.database.url);
    const allIds = stored.map((m) => m.id);
    const finalId = allIds.at(-1)!;
    await Promise.all(second.map((c) => waitForId(c, finalId, 30_000)));
    for (const [i, client] of second.entries()) {
      assertSameIds(chatIds(first[i]!), allIds.filter((id) => id <= seenLast[i]!), `client ${i} before the crash`);
      assertSameIds(chatIds(client), allIds.filter((id) => id > lastIds[i]!), `client ${i} after reconnecting with last_id=${lastIds[i]}`);
    }
    for (const [client, name] of [[t1, 'talker on gw1'], [t2, 'talker on gw2']] as const) {
      await waitForId(client, finalId);
      assertSameIds(chatIds(client), allIds, name);
    }

    // Once the dead gateway is reaped, exactly the connected users are online, once each.
    await waitUntil('the dead gateway reaped', async () => {
      const s = await presence.sessions();
      return s.reaping.length === 0 && !s.leases.some((l) => l.startsWith('test-gw-0#'));
    });
    const online = await presence.users();
    assert.deepEqual(
      [...online.entries()].sort(),
      [...users, talker1!, talker2!].map((u) => [u.userId, 1] as [string, number]).sort(),
      'one connection per user in Redis',
    );
    assert.deepEqual(await presence.keysOfGateway('test-gw-0'), [], 'no per-room hash or room list of the dead gateway');
    t1.send({ content: 'count check', msg_type: 4 });
    const frame = await t2.next((f) => f.content === 'count check');
    assert.equal(frame.online_count, CLIENTS + 2);
  });
});
