import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient, isWelcome } from '../support/chat-client.ts';
import { waitUntil } from '../support/chat-traffic.ts';
import { PresenceState } from '../support/presence-state.ts';

const MAX_ONLINE = 3;

/**
 * gateway.presence_notice_max_online: a room announces joins and leaves (msg_type 2 and 3) only
 * while at most that many users are online in it, counting the one who joins or leaves; above it,
 * clients learn the count from online_count in the welcome and in every message.
 */
describe('join and leave notices stop above presence_notice_max_online', () => {
  let cluster: TestCluster;
  let presence: PresenceState;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 2, env: { PRESENCE_NOTICE_MAX_ONLINE: String(MAX_ONLINE) } });
    presence = PresenceState.of(cluster);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    presence?.close();
    await cluster?.stop();
  });

  it(`announces while at most ${MAX_ONLINE} are online, cluster-wide, and only online_count above`, async () => {
    const [u1, u2, u3, u4] = await Promise.all([1, 2, 3, 4].map((i) => newUser(cluster, `pn${i}-`)));
    const connect = async (gateway: number, user: { token: string }) => {
      const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, { token: user.token });
      clients.push(client);
      return client;
    };
    const notices = (client: ChatClient, type: 2 | 3) => client.frames.filter((f) => f.msg_type === type);
    // The observer is on gw-0; everyone else joins and leaves through gw-1, so each notice crosses
    // gateways, and notices and messages from gw-1 reach the observer in the order gw-1 sent them.
    const observer = await connect(0, u1!);

    const c2 = await connect(1, u2!);
    const joined2 = await observer.next((f) => f.msg_type === 2 && f.user_id === u2!.userId);
    assert.equal(joined2.online_count, 2);
    assert.equal(joined2.username, u2!.username);

    const c3 = await connect(1, u3!);
    const joined3 = await observer.next((f) => f.msg_type === 2 && f.user_id === u3!.userId);
    assert.equal(joined3.online_count, MAX_ONLINE, 'the join that reaches the limit is still announced');
    await c2.next((f) => f.msg_type === 2 && f.user_id === u3!.userId);

    // The fourth user makes the room larger than the limit: no notice, but the count is there.
    const c4 = await connect(1, u4!);
    assert.equal(c4.frames.find(isWelcome)?.online_count, MAX_ONLINE + 1, 'welcome carries online_count');
    c4.send({ msg_type: 4, content: 'four of us' });
    const message = await observer.next((f) => f.content === 'four of us');
    assert.equal(message.online_count, MAX_ONLINE + 1, 'messages carry online_count');
    await c2.next((f) => f.content === 'four of us');
    // Each socket also sees the notice of its own user's joining.
    assert.deepEqual(notices(observer, 2).map((f) => f.user_id), [u1!.userId, u2!.userId, u3!.userId], 'no join notice above the limit');
    assert.deepEqual(notices(c2, 2).map((f) => f.user_id), [u2!.userId, u3!.userId]);

    // Leaving a room of four (above the limit): no notice. Leaving a room of three: announced.
    await c4.close();
    await waitUntil('u4 offline', async () => (await presence.users()).size === MAX_ONLINE);
    await c3.close();
    const left3 = await observer.next((f) => f.msg_type === 3 && f.user_id === u3!.userId);
    assert.equal(left3.online_count, 2);
    await c2.next((f) => f.msg_type === 3 && f.user_id === u3!.userId);
    assert.deepEqual(notices(observer, 3).map((f) => f.user_id), [u3!.userId], 'no leave notice for the room of four');
    assert.deepEqual(notices(c2, 3).map((f) => f.user_id), [u3!.userId]);
  });
});
