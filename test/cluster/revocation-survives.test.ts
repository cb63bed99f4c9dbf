import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { freezeProcess, thawProcess } from '../support/freeze-process.ts';
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

    // Asked at once, before anything else had a chance to rebuild the cache: the gateway asks
    // MySQL itself (its ledger), so it says "logged out", not "try again".
    assert.equal(await upgradeStatus(leaving.token), 401, 'the gateway refused the socket as logged out');
    assert.equal(await listUsers(leaving.token), 401, 'the API refused the request');

    assert.equal(await listUsers(staying.token), 200);
    assert.equal(await upgradeStatus(staying.token), 101);
  });

  it('a socket whose logout the gateway missed is closed once Redis is back, even restarted empty', async () => {
    const user = await newUser(cluster, 'missed');
    const client = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: user.token });
    await redis.kill();
    // Redis is down: the API records the logout in MySQL and cannot tell the gateways.
    assert.equal(await logout(user.token), 200);
    // Nor will it later: frozen, it cannot repair the cache or rebuild it, as if it had died.
    const apiPid = cluster.api.child.pid!;
    await freezeProcess(apiPid);
    try {
      await redis.restart();
      // The gateway resubscribes and asks about every open socket's token: its ledger says revoked.
      const closed = await withinOrFail(client.closed, 20_000, 'the socket was not closed');
      assert.equal(closed.code, 4001);
      assert.equal(await upgradeStatus(user.token), 401);
    } finally {
      await thawProcess(apiPid);
    }
  });
});

/** `promise`, or a failure naming what did not happen (instead of the test runner's timeout). */
async function withinOrFail<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
