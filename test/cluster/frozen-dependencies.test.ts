import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { projectRoot } from '@im/config';
import { applyMigrations } from '@im/db';
import { startCluster, newUser, waitReady, type TestCluster } from '../support/cluster.ts';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';
import { ChatClient } from '../support/chat-client.ts';
import { freezeProcess, thawProcess } from '../support/freeze-process.ts';
import { mariaDbServerUnavailable, startMariaDbServer, type TestMariaDbServer } from '../support/mariadb-server.ts';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.ts';
import { storedMessages } from '../support/stored-messages.ts';

/** Longer than any deadline the gateway documents: an answer that needs this long is a hang. */
const HANG_MS = 15_000;

/**
 * A dependency that is frozen (SIGSTOP: connections stay open, nothing answers, as with a stalled
 * VM or disk) turns into an answer that says so, never a wait: the gateway's /readyz says 503, a
 * chat send answers a 1500 frame (and the resend with the same client_msg_id stores exactly one
 * message), and revocation checks that could not be answered are asked again. On a private
 * MariaDB and Redis (the shared ones serve other test files).
 */
describe('the gateway under a frozen MySQL or Redis', { skip: mariaDbServerUnavailable, timeout: 180_000 }, () => {
  let mariadb: TestMariaDbServer;
  let redis: TestRedisServer;
  let cluster: TestCluster;
  /** A gateway whose statements may wait 60 s: only the readiness deadline can answer its /readyz. */
  let patient: { process: RunningProcess; url: string } | undefined;

  before(async () => {
    [mariadb, redis] = await Promise.all([startMariaDbServer(), startRedisServer()]);
    const databaseUrl = mariadb.databaseUrl('im_frozen');
    await applyMigrations(databaseUrl, resolve(projectRoot, 'prisma/migrations'));
    cluster = await startCluster({ gateways: 1, env: { DATABASE_URL: databaseUrl, REDIS_URL: redis.url } });
    const port = await freePort();
    patient = {
      process: startProcess('apps/gateway/src/index.ts', { ...cluster.env, GATEWAY_PORT: String(port), GATEWAY_ID: 'patient', MYSQL_QUERY_TIMEOUT_MS: '60000' }),
      url: `http://127.0.0.1:${port}`,
    };
    await waitReady(patient.url, patient.process);
  });
  after(async () => {
    await mariadb?.thaw().catch(() => {});
    await redis?.resume().catch(() => {});
    await patient?.process.stop();
    await cluster?.stop();
    await Promise.allSettled([mariadb?.stop(), redis?.stop()]);
  });

  const readyz = async (base: string) => {
    const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(HANG_MS) });
    return { status: response.status, body: (await response.json()) as { code: number; data: Record<string, string> } };
  };

  it('/readyz answers 503 naming MySQL while MariaDB is frozen, and 200 once it thaws', async (t) => {
    await mariadb.freeze();
    try {
      for (const base of [cluster.gatewayUrls[0]!, patient!.url]) {
        const started = Date.now();
        const { status, body } = await readyz(base);
        t.diagnostic(`${base}: ${status} after ${Date.now() - started} ms (loaded machine)`);
        assert.equal(status, 503);
        assert.equal(body.code, 1500);
        assert.equal(body.data.mysql, 'down');
      }
    } finally {
      await mariadb.thaw();
    }
    await eventually(async () => assert.equal((await readyz(patient!.url)).status, 200));
  });

  it('/readyz answers 503 naming Redis while Redis is frozen', async (t) => {
    await redis.pause();
    try {
      // The bus pings Redis every second: at most a couple of seconds until it is found silent.
      await eventually(async () => {
        const started = Date.now();
        const { status, body } = await readyz(cluster.gatewayUrls[0]!);
        t.diagnostic(`${status} ${JSON.stringify(body.data)} after ${Date.now() - started} ms`);
        assert.equal(status, 503);
        assert.equal(body.data.redis, 'down');
      });
    } finally {
      await redis.resume();
    }
    await eventually(async () => assert.equal((await readyz(cluster.gatewayUrls[0]!)).status, 200));
  });

  it('a chat send while MariaDB is frozen answers 1500; the resend stores exactly one message', async (t) => {
    const users = await Promise.all([newUser(cluster, 'frozen'), newUser(cluster, 'frozen')]);
    const clients = await Promise.all(users.map((user) => ChatClient.connect(cluster.gatewayUrls[0]!, { token: user.token })));
    await mariadb.freeze();
    const ids = clients.flatMap((_, c) => [1, 2, 3].map((n) => `frozen-${c}-${n}`));
    const started = Date.now();
    try {
      clients.forEach((client, c) => {
        for (const n of [1, 2, 3]) client.send({ msg_type: 4, content: `sent frozen ${n}`, client_msg_id: `frozen-${c}-${n}` });
      });
      const answers = await Promise.all(
        ids.map((id, i) => clients[Math.floor(i / 3)]!.next((f) => f.client_msg_id === id, HANG_MS).then((frame) => ({ frame, ms: Date.now() - started }))),
      );
      t.diagnostic(`1500 after ${answers.map((a) => a.ms).join(', ')} ms (loaded machine)`);
      for (const { frame } of answers) {
        assert.equal(frame.msg_type, 1);
        assert.equal(frame.code, 1500);
      }
    } finally {
      await mariadb.thaw();
    }
    // Resent with the same client_msg_id, as the 1500 says: each is stored once, whatever the
    // frozen attempt left behind (a COMMIT may have reached MariaDB before it froze).
    await eventually(async () => {
      const client = clients[0]!;
      const from = client.frames.length;
      client.send({ msg_type: 4, content: 'sent frozen 1', client_msg_id: 'frozen-0-1' });
      assert.equal((await client.next((f) => f.client_msg_id === 'frozen-0-1', HANG_MS, from)).code, undefined);
    });
    clients.forEach((client, c) => {
      for (const n of [1, 2, 3]) client.send({ msg_type: 4, content: `sent frozen ${n}`, client_msg_id: `frozen-${c}-${n}` });
    });
    for (const [i, id] of ids.entries()) {
      const client = clients[Math.floor(i / 3)]!;
      await client.next((f) => f.client_msg_id === id && f.id !== undefined, HANG_MS);
    }
    const stored = await storedMessages(mariadb.databaseUrl('im_frozen'));
    for (const id of ids) assert.equal(stored.filter((m) => m.clientMsgId === id).length, 1, `${id} stored once`);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('a chat send while Redis is frozen is stored and acknowledged', async () => {
    const user = await newUser(cluster, 'redisfrozen');
    const client = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: user.token });
    await redis.pause();
    try {
      client.send({ msg_type: 4, content: 'while redis sleeps', client_msg_id: 'redis-frozen-1' });
      const echo = await client.next((f) => f.client_msg_id === 'redis-frozen-1', HANG_MS);
      assert.equal(typeof echo.id, 'number', `acknowledged: ${JSON.stringify(echo)}`);
    } finally {
      await redis.resume();
    }
    await client.close();
  });

  it('a revocation recheck that fails while MySQL is frozen is retried: the socket closes once it thaws', async () => {
    const user = await newUser(cluster, 'recheck');
    const client = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: user.token });
    await redis.kill();
    // Redis is down: the API records the logout in MySQL and cannot tell the gateway.
    const logout = await fetch(`${cluster.apiUrl}/api/users/logout`, {
      method: 'POST',
      headers: { authorization: `bearer ${user.token}` },
      signal: AbortSignal.timeout(HANG_MS),
    });
    assert.equal(logout.status, 200);
    const apiPid = cluster.api.child.pid!;
    const gateway = cluster.gateways[0]!;
    // Frozen, the API can neither repair nor rebuild Redis's cache of revocations.
    await freezeProcess(apiPid);
    try {
      await mariadb.freeze();
      try {
        const logged = gateway.output.length;
        await redis.restart();
        // The gateway found Redis back (and empty), asked its ledger, which is frozen too.
        // (A message of its own: without one, a failing assert.ok parses this file to describe itself.)
        const failedOnce = () => gateway.output.slice(logged).some((line) => line.includes('revocation recheck failed'));
        await eventually(async () => assert.ok(failedOnce(), 'the gateway logged no failed recheck'), HANG_MS);
      } finally {
        await mariadb.thaw();
      }
      const closed = await Promise.race([client.closed, sleep(HANG_MS).then(() => assert.fail('the socket was not closed after MySQL thawed'))]);
      assert.equal(closed.code, 4001);
    } finally {
      await thawProcess(apiPid);
    }
  });
});

async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
