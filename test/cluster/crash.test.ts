import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, lastChatId, startChatter, waitForId, waitUntil, type Chatter } from '../support/chat-traffic.ts';
import { PresenceState } from '../support/presence-state.ts';
import { storedMessages } from '../support/stored-messages.ts';

/** startCluster's short leases: a dead gateway's users must be gone within lease + heartbeat (+ slack). */
const LEASE_MS = 1_500;
const PRESENCE_HEARTBEAT_MS = 500;
const SLACK_MS = 2_500;

/**
 * kill -9 of a gateway: its users leave presence everywhere within the lease bound and leave no
 * ghost in Redis; a user also connected elsewhere stays online; the dead gateway's clients
 * reconnect elsewhere with last_id and miss nothing while others keep talking.
 */
describe('gateway crash (SIGKILL)', () => {
  let cluster: TestCluster;
  let presence: PresenceState;
  const clients: ChatClient[] = [];
  let chatter: Chatter | undefined;
  const connect = async (gateway: number, token: string, lastId?: number) => {
    const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, { token, lastId });
    clients.push(client);
    return client;
  };

  // Shared between the two phases.
  let alice: Awaited<ReturnType<typeof newUser>>;
  let bob: Awaited<ReturnType<typeof newUser>>;
  let carol: Awaited<ReturnType<typeof newUser>>;
  let obs1: Awaited<ReturnType<typeof newUser>>;
  let obs2: Awaited<ReturnType<typeof newUser>>;
  let a: ChatClient, b: ChatClient, c0: ChatClient, c1: ChatClient, o1: ChatClient, o2: ChatClient;
  let crashPhaseDone = false;

  before(async () => {
    cluster = await startCluster({ gateways: 3 });
    presence = PresenceState.of(cluster);
  });
  after(async () => {
    await chatter?.stop().catch(() => {});
    await Promise.all(clients.map((c) => c.close()));
    presence?.close();
    await cluster?.stop();
  });

  it('users only on the killed gateway leave within the lease bound, everywhere, with no ghost in Redis', async () => {
    const made = await Promise.all(['alice', 'bob', 'carol', 'obs', 'obs'].map((l) => newUser(cluster, l)));
    [alice, bob, carol, obs1, obs2] = [made[0]!, made[1]!, made[2]!, made[3]!, made[4]!];
    // alice and bob only on gateway 0; carol on 0 and 1; observers on 1 and 2.
    o1 = await connect(1, obs1.token);
    o2 = await connect(2, obs2.token);
    a = await connect(0, alice.token);
    b = await connect(0, bob.token);
    c0 = await connect(0, carol.token);
    c1 = await connect(1, carol.token);
    const everyone = [alice, bob, carol, obs1, obs2].map((u) => u.userId);
    await waitUntil('all five users online in Redis', async () => (await presence.users()).size === 5);

    // Some history that everybody saw.
    for (let i = 0; i < 3; i += 1) {
      o1.send({ content: `before crash ${i}`, msg_type: 4 });
      await o1.next((f) => f.content === `before crash ${i}`);
    }
    const stored = await storedMessages(cluster.database.url);
    const lastBefore = stored.at(-1)!.id;
    await Promise.all([a, b, c0, c1, o2].map((client) => waitForId(client, lastBefore)));
    const seenBefore = o2.frames.length;
    assert.equal(o2.frames.filter((f) => f.id !== undefined).at(-1).online_count, 5, 'online_count before the crash');

    const killedAt = Date.now();
    cluster.gateways[0]!.child.kill('SIGKILL');
    await Promise.all([a.closed, b.closed, c0.closed]);

    const bound = LEASE_MS + PRESENCE_HEARTBEAT_MS + SLACK_MS;
    const leftFrame = (observer: ChatClient, userId: string) =>
      observer.next((f) => f.msg_type === 3 && f.user_id === userId, bound - (Date.now() - killedAt), seenBefore);
    const lefts = await Promise.all(
      [o1, o2].flatMap((observer) => [alice, bob].map((user) => leftFrame(observer, user.userId).then(() => Date.now() - killedAt))),
    );
    console.log(`left frames arrived ${lefts.join(', ')} ms after the kill (bound ${bound} ms)`);

    // online_count of the next message agrees on every surviving gateway, whoever sends it.
    for (const [sender, label] of [[o1, 'from gw1'], [o2, 'from gw2']] as const) {
      const content = `after crash ${label}`;
      sender.send({ content, msg_type: 4 });
      for (const receiver of [o1, o2, c1]) {
        const frame = await receiver.next((f) => f.content === content);
        assert.equal(frame.online_count, 3, `online_count of a message ${label}, as seen on another gateway`);
      }
    }

    // Nothing of gateway 0 is left in Redis.
    const users = await presence.users();
    assert.deepEqual([...users.keys()].sort(), [carol.userId, obs1.userId, obs2.userId].sort(), 'users hash after the reap');
    assert.equal(users.get(carol.userId), 1, 'carol keeps exactly her connection on gateway 1');
    const sessions = await waitUntil('the dead session leaves the reaping set', async () => {
      const s = await presence.sessions();
      return s.reaping.length === 0 ? s : undefined;
    });
    assert.deepEqual(sessions.leases.filter((s) => s.startsWith('test-gw-0#')), [], 'no lease of the dead gateway');
    assert.deepEqual(await presence.keysOfGateway('test-gw-0'), [], 'no per-room hash or room list of the dead gateway');

    // carol was never gone: nobody announced her leaving.
    for (const observer of [o1, o2]) {
      assert.equal(observer.frames.slice(seenBefore).filter((f) => f.msg_type === 3 && f.user_id === carol.userId).length, 0);
      assert.equal(observer.frames.slice(seenBefore).filter((f) => f.msg_type === 3 && !everyone.includes(f.user_id)).length, 0);
    }
    crashPhaseDone = true;
  });

  it("the killed gateway's clients reconnect elsewhere with last_id and get exactly what they missed, then live", async () => {
    assert.ok(crashPhaseDone, 'needs the crash phase');
    const aliceLast = lastChatId(a)!;
    const bobLast = lastChatId(b)!;

    // Others keep talking while alice and bob are away and while they reconnect.
    chatter = startChatter([o1, o2, c1], { label: 'during' });
    await chatter.waitForMore(10);
    const [a2, b2] = await Promise.all([connect(1, alice.token, aliceLast), connect(2, bob.token, bobLast)]);
    await chatter.waitForMore(15);
    await chatter.stop();
    assert.deepEqual(chatter.failures, []);

    const stored = await storedMessages(cluster.database.url);
    const finalId = stored.at(-1)!.id;
    for (const [client, lastId, name] of [[a2, aliceLast, 'alice'], [b2, bobLast, 'bob']] as const) {
      await waitForId(client, finalId);
      assertSameIds(chatIds(client), stored.filter((m) => m.id > lastId).map((m) => m.id), `${name} after reconnecting with last_id=${lastId}`);
      // Before the crash they had seen everything up to last_id, without gap either.
      const before = stored.filter((m) => m.id <= lastId).map((m) => m.id);
      assertSameIds(chatIds(name === 'alice' ? a : b), before, `${name} before the crash`);
    }
    // The always-connected observers saw the same stream.
    for (const [client, name] of [[o1, 'obs1'], [o2, 'obs2'], [c1, 'carol on gw1']] as const) {
      await waitForId(client, finalId);
      assertSameIds(chatIds(client), stored.map((m) => m.id), name);
    }
    // Both are online again, once each.
    const users = await presence.users();
    assert.equal(users.get(alice.userId), 1);
    assert.equal(users.get(bob.userId), 1);
  });
});
