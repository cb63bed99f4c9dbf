import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';

describe('smoke', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ gateways: 2 });
  });
  after(() => cluster.stop());

  it('group message crosses gateways', async () => {
    const alice = await newUser(cluster, 'alice');
    const bob = await newUser(cluster, 'bob');
    const a = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: alice.token });
    const b = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: bob.token });
    await a.next((f) => f.msg_type === 2 && f.user_id === bob.userId);
    a.send({ content: 'hello', msg_type: 4 });
    const got = await b.next((f) => f.msg_type === 4);
    assert.equal(got.content, 'hello');
    assert.equal(got.online_count, 2);
    console.log(JSON.stringify(got));
    await a.close();
    await b.close();
  });
});
