import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, lastChatId, sendFlushed, waitForId } from '../support/chat-traffic.ts';
import { PresenceState } from '../support/presence-state.ts';
import { storedMessages } from '../support/stored-messages.ts';

const BURST = 10;

/**
 * SIGTERM (deploy, scale-down): the gateway finishes what its clients already sent, tells each
 * client to reconnect elsewhere (close 1012), announces their leaving at once (no lease wait),
 * and exits 0.
 */
describe('graceful drain (SIGTERM)', () => {
  let cluster: TestCluster;
  let presence: PresenceState;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 2 });
    presence = PresenceState.of(cluster);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    presence?.close();
    await cluster?.stop();
  });

  it('clients get 1012, the process exits 0, and what they sent just before is stored and delivered', async () => {
    const [k1, k2, obs] = await Promise.all(['k', 'k', 'obs'].map((l) => newUser(cluster, l)));
    const o = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: obs!.token });
    const c1 = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: k1!.token });
    const c2 = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: k2!.token });
    clients.push(o, c1, c2);
    await Promise.all([k1!, k2!].map((u) => o.next((f) => f.msg_type === 2 && f.user_id === u.userId)));

    // One message each that is surely through, then a burst written to the socket right before SIGTERM.
    for (const [i, c] of [c1, c2].entries()) {
      c.send({ content: `warm-${i}`, msg_type: 4, client_msg_id: `warm-${i}` });
      await c.next((f) => f.client_msg_id === `warm-${i}` && f.id !== undefined);
    }
    const sent: string[] = [];
    await Promise.all(
      [c1, c2].map(async (c, i) => {
        for (let n = 0; n < BURST; n += 1) {
          const id = `last-${i}-${n}`;
          sent.push(id);
          await sendFlushed(c, { content: id, msg_type: 4, client_msg_id: id });
        }
      }),
    );
    const gateway = cluster.gateways[0]!;
    const termAt = Date.now();
    gateway.child.kill('SIGTERM');

    const closes = await Promise.all(
      [c1, c2].map((c) => c.closed.then((close) => ({ ...close, afterMs: Date.now() - termAt }))),
    );
    const exitCode = await gateway.exited;
    const exitedAfterMs = Date.now() - termAt;
    const context = `closes ${JSON.stringify(closes)}, exit ${exitCode} after ${exitedAfterMs} ms; gateway output:\n${gateway.output.slice(-15).join('\n')}`;
    console.log(context);
    for (const [i, close] of closes.entries()) assert.equal(close.code, 1012, `close code of client ${i + 1}; ${context}`);
    assert.equal(exitCode, 0, `exit code; ${context}`);

    // Everything written before SIGTERM is stored.
    const stored = await storedMessages(cluster.database.url);
    const storedIds = new Set(stored.map((m) => m.clientMsgId));
    assert.deepEqual(sent.filter((id) => !storedIds.has(id)), [], 'messages sent just before SIGTERM and not stored');
    // ... and delivered to the user on the other gateway, in order, with nothing missing.
    const allIds = stored.map((m) => m.id);
    await waitForId(o, allIds.at(-1)!);
    assertSameIds(chatIds(o), allIds, 'observer on gw1');
    // Leaving was announced by the draining gateway itself, not after a lease ran out.
    for (const u of [k1!, k2!]) await o.next((f) => f.msg_type === 3 && f.user_id === u.userId, 1_000);
    assert.deepEqual([...(await presence.users()).keys()], [obs!.userId], 'only the observer is online');

    // The drained clients continue on the other gateway from where they were.
    const resumed: Array<[ChatClient, number]> = [];
    for (const [c, u] of [[c1, k1!], [c2, k2!]] as const) {
      const lastId = lastChatId(c) ?? 0;
      const again = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: u.token, lastId });
      clients.push(again);
      resumed.push([again, lastId]);
    }
    o.send({ content: 'after the drain', msg_type: 4 });
    const final = await o.next((f) => f.content === 'after the drain');
    const allAfter = (await storedMessages(cluster.database.url)).map((m) => m.id);
    for (const [i, [again, lastId]] of resumed.entries()) {
      await waitForId(again, final.id);
      assertSameIds(chatIds(again), allAfter.filter((id) => id > lastId), `client ${i + 1} after reconnecting with last_id=${lastId}`);
    }
  });
});
