import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.ts';

/**
 * The README's Redis keeps nothing on disk. A token logged out before Redis restarts with empty
 * data must stay refused, over HTTP and WebSocket; the gateways read Redis's revocation cache,
 * which the API rebuilds from MySQL. A private redis-server: other test files share 6379.
 */
describe('a logout survives a Redis restart with empty data', () => {
  let redis: TestRedisServer;
  let cluster: TestCluster;

  before(async () => {
    redis = await startRedisServer();
    cluster = await startCluster({ gateways: 1, env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    if (redis && !redis.running) await redis.restart().catch(() => {});
    await cluster?.stop();
    await redis?.stop();
  });

  const listUsers = async (token: string) =>
    (await fetch(`${cluster.apiUrl}/api/users`, { headers: { authorization: `bearer ${token}` } })).status;
  const logout = async (token: string) =>
    (await fetch(`${cluster.apiUrl}/api/users/logout`, { method: 'POST', headers: { authorization: `bearer ${token}` } })).status;
  /** The handshake's HTTP status; 101 if a socket opened (then closed again at once). */
  const upgradeStatus = async (token: string) =>
    ChatClient.connect(cluster.gatewayUrls[0]!, { token }).then(
      async (client) => {
        await client.close();
        return 101;
      },
      (err: { status?: number }) => err.status ?? 0,
    );

  it('HTTP and WebSocket keep refusing the logged-out token; a live token works again once the cache is rebuilt', async () => {
    const leaving = await newUser(cluster, 'leaving');
    const staying = await newUser(cluster, 'staying');
    assert.equal(await upgradeStatus(leaving.token), 101);
    assert.equal(await logout(leaving.token), 200);
    assert.equal(await listUsers(leaving.token), 401);
    assert.equal(await upgradeStatus(leaving.token), 401);

    await redis.kill();
    await redis.restart();
    await waitFor('the API is ready again', async () => (await fetch(`${cluster.apiUrl}/readyz`)).ok);

    // Asked at once, before anything else had a chance to rebuild the cache.
    const statuses = [await upgradeStatus(leaving.token), await listUsers(leaving.token)];
    assert.ok([401, 503].includes(statuses[0]!), `the gateway refused the socket (${statuses[0]})`);
    assert.equal(statuses[1], 401, 'the API refused the request');
    await waitFor('the gateway refuses it as logged out', async () => (await upgradeStatus(leaving.token)) === 401);
    assert.equal(await listUsers(leaving.token), 401);

    assert.equal(await listUsers(staying.token), 200);
    assert.equal(await upgradeStatus(staying.token), 101);
  });
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
