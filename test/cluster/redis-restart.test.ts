import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, lastChatId, startChatter, waitForId, waitUntil, type Chatter } from '../support/chat-traffic.ts';
import { PresenceState } from '../support/presence-state.ts';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.ts';
import { storedMessages } from '../support/stored-messages.ts';

const readyStatus = async (base: string) => (await fetch(`${base}/readyz`)).status;

/**
 * Redis dies (SIGKILL, no persistence) and comes back on the same port while users on different
 * gateways keep sending. Redis is only the fast path: MySQL holds every message, so nothing stored
 * may be lost to a client that stayed connected or that catches up with last_id.
 * Runs its own redis-server: the shared one on 6379 serves other test files.
 */
describe('Redis restart while messages flow', () => {
  let redis: TestRedisServer;
  let cluster: TestCluster;
  let presence: PresenceState;
  let chatter: Chatter | undefined;
  const clients: ChatClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    cluster = await startCluster({ gateways: 2, env: { REDIS_URL: redis.url } });
    presence = new PresenceState(redis.url, cluster.prefix);
  });
  after(async () => {
    await chatter?.stop().catch(() => {});
    await Promise.all(clients.map((c) => c.close()));
    presence?.close();
    // Gateways drain through Redis: bring it back first if a failed test left it down.
    if (redis && !redis.running) await redis.restart().catch(() => {});
    await cluster?.stop();
    await redis?.stop();
  });

  it('every stored message reaches every client (live, or by catching up); /readyz says 503 while Redis is down', async () => {
    const users = await Promise.all(['s0', 's1', 'r0', 'r1'].map((l) => newUser(cluster, l)));
    const [s0, s1, r0, r1] = await Promise.all(
      users.map(async (user, i) => {
        const client = await ChatClient.connect(cluster.gatewayUrls[i % 2]!, { token: user.token });
        clients.push(client);
        return client;
      }),
    );
    // A fifth user leaves while Redis is down and comes back with last_id after it returns.
    const away = await newUser(cluster, 'away');
    const awayFirst = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: away.token });
    clients.push(awayFirst);
    await waitUntil('all five users online in Redis', async () => (await presence.users()).size === 5);
    for (const base of cluster.gatewayUrls) assert.equal(await readyStatus(base), 200, `${base} ready before`);

    chatter = startChatter([s0!, s1!], { label: 'flow', intervalMs: 30 });
    await chatter.waitForMore(20);

    await redis.kill();
    const downAt = Date.now();
    await Promise.all(
      cluster.gatewayUrls.map((base) => waitUntil(`${base}/readyz = 503 with Redis down`, async () => (await readyStatus(base)) === 503, { timeoutMs: 10_000 })),
    );
    await awayFirst.close();
    // Messages keep being stored while Redis is away (slowly: each waits for Redis commands to give up).
    await chatter.waitForMore(2, 60_000);
    const storedDuringOutage = (await storedMessages(cluster.database.url)).length;
    console.log(`redis down ${Date.now() - downAt} ms, ${chatter.acked} messages acknowledged so far`);

    await redis.restart();
    const upAt = Date.now();
    await Promise.all(
      cluster.gatewayUrls.map((base) => waitUntil(`${base}/readyz = 200 after Redis is back`, async () => (await readyStatus(base)) === 200, { timeoutMs: 30_000 })),
    );
    console.log(`gateways ready ${Date.now() - upAt} ms after Redis came back`);
    await chatter.waitForMore(20, 60_000);
    await chatter.stop();
    assert.deepEqual(chatter.failures, []);

    const stored = await storedMessages(cluster.database.url);
    assert.ok(stored.length > storedDuringOutage, 'messages were stored after Redis came back');
    const allIds = stored.map((m) => m.id);
    const finalId = allIds.at(-1)!;
    // The user who left during the outage catches up from where it was.
    const awayLast = lastChatId(awayFirst) ?? 0;
    const awayAgain = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: away.token, lastId: awayLast });
    clients.push(awayAgain);
    await waitForId(awayAgain, finalId, 30_000);
    assertSameIds(chatIds(awayFirst), allIds.filter((id) => id <= awayLast), 'away user before leaving');
    assertSameIds(chatIds(awayAgain), allIds.filter((id) => id > awayLast), `away user after reconnecting with last_id=${awayLast}`);

    const names = ['s0 (gw0)', 's1 (gw1)', 'r0 (gw0)', 'r1 (gw1)'];
    for (const [i, client] of [s0!, s1!, r0!, r1!].entries()) {
      let received = chatIds(client);
      if (client.ws.readyState !== client.ws.OPEN) {
        // Dropped during the outage: it must be able to catch up from where it was.
        const again = await ChatClient.connect(cluster.gatewayUrls[i % 2]!, { token: users[i]!.token, lastId: lastChatId(client) ?? 0 });
        clients.push(again);
        await waitForId(again, finalId, 30_000);
        received = [...received, ...chatIds(again)];
        console.log(`${names[i]} was disconnected and caught up`);
      } else {
        await waitForId(client, finalId, 30_000);
        received = chatIds(client);
      }
      assertSameIds(received, allIds, names[i]!);
    }

    // Presence is rebuilt in the empty Redis: every connected user is online again.
    await waitUntil('all five users online again after the restart', async () => (await presence.users()).size === 5, { timeoutMs: 10_000 });
    // And the next message says so.
    s0!.send({ content: 'after the restart', msg_type: 4 });
    const frame = await r1!.next((f) => f.content === 'after the restart');
    assert.equal(frame.online_count, 5, 'online_count after the restart');
  });
});

/**
 * While Redis is down, MySQL still stores every message and the periodic check still delivers it
 * across gateways, so chat should keep working, only slower across gateways. A user must not wait
 * many seconds for their own message, nor read "0 online" while they themselves are online.
 */
describe('chat while Redis is down', () => {
  /** Generous: storing takes milliseconds; the periodic MySQL check runs every 5 s. */
  const ACK_WITHIN_MS = 5_000;
  const CROSS_GATEWAY_WITHIN_MS = 12_000;
  let redis: TestRedisServer;
  let cluster: TestCluster;
  const clients: ChatClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    cluster = await startCluster({ gateways: 2, env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    if (redis && !redis.running) await redis.restart().catch(() => {});
    await cluster?.stop();
    await redis?.stop();
  });

  it(`a message is acknowledged within ${ACK_WITHIN_MS} ms, with a sane online_count, and reaches the other gateway`, async () => {
    const [sender, receiver] = await Promise.all([newUser(cluster, 'snd'), newUser(cluster, 'rcv')]);
    const s = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: sender.token });
    const r = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: receiver.token });
    clients.push(s, r);
    await s.next((f) => f.msg_type === 2 && f.user_id === receiver.userId);

    await redis.kill();
    await waitUntil('gateway 0 notices Redis is gone', async () => (await readyStatus(cluster.gatewayUrls[0]!)) === 503);
    const problems: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const id = `down-${i}`;
      const sentAt = Date.now();
      s.send({ content: id, msg_type: 4, client_msg_id: id });
      const echo = await s.next((f) => f.client_msg_id === id, 60_000);
      const ackMs = Date.now() - sentAt;
      console.log(`${id}: acknowledged after ${ackMs} ms, online_count ${echo.online_count}`);
      if (echo.id === undefined) problems.push(`${id} refused: ${echo.content}`);
      if (ackMs > ACK_WITHIN_MS) problems.push(`${id} acknowledged after ${ackMs} ms`);
      if (!(echo.online_count >= 1)) problems.push(`${id} says online_count ${echo.online_count} though its sender is online`);
      const across = await r.next((f) => f.client_msg_id === id, CROSS_GATEWAY_WITHIN_MS).catch(() => undefined);
      if (!across) problems.push(`${id} did not reach gateway 1 within ${CROSS_GATEWAY_WITHIN_MS} ms of being acknowledged`);
    }
    assert.deepEqual(problems, []);
  });
});
