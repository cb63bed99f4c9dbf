import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSmtpSink, type SmtpSink } from '@im/testing';
import { startCluster, newUser, waitReady, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { assertSameIds, chatIds, lastChatId, startChatter, waitForId, waitUntil, type Chatter } from '../support/chat-traffic.ts';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.ts';
import { writeSettingsFile } from '../support/settings-file.ts';
import { storedMessages } from '../support/stored-messages.ts';

const readyStatus = async (base: string) => (await fetch(`${base}/readyz`)).status;

/**
 * The whole system on a real Redis Cluster (three masters, three replicas, sharded pub/sub):
 * the API, three gateways, a second API with emailed login codes and the mail worker. The same
 * black-box promises as on one Redis, then a master killed under traffic.
 */
describe('on a Redis Cluster', () => {
  let redis: TestRedisCluster;
  let cluster: TestCluster;
  let sink: SmtpSink;
  let settings: ReturnType<typeof writeSettingsFile> | undefined;
  let codeApi: RunningProcess | undefined;
  let worker: RunningProcess | undefined;
  let codeApiUrl = '';
  let chatter: Chatter | undefined;
  const clients: ChatClient[] = [];
  const connect = async (gateway: number, options: Parameters<typeof ChatClient.connect>[1]) => {
    const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, options);
    clients.push(client);
    return client;
  };

  before(async () => {
    [redis, sink] = await Promise.all([startRedisCluster(), startSmtpSink()]);
    cluster = await startCluster({
      gateways: 3,
      env: { REDIS_CLUSTER_NODES: redis.seeds.slice(0, 2).join(','), REDIS_SHARDED_PUBSUB: 'true' },
    });
    // Login codes: a second API with verification on, and the worker that mails the codes.
    settings = writeSettingsFile({ rate_limit: { login_per_account: 3 } });
    const port = await freePort();
    codeApiUrl = `http://127.0.0.1:${port}`;
    const env = { ...cluster.env, IM_CONFIG: settings.path, EMAIL_VERIFICATION: 'true', SMTP_URL: sink.url };
    codeApi = startProcess('apps/api/src/index.ts', { ...env, API_PORT: String(port), PORT: String(port) });
    const workerPort = await freePort();
    worker = startProcess('apps/worker/src/index.ts', { ...env, WORKER_PORT: String(workerPort) });
    await Promise.all([waitReady(codeApiUrl, codeApi), waitReady(`http://127.0.0.1:${workerPort}`, worker)]);
  });
  after(async () => {
    await chatter?.stop().catch(() => {});
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([codeApi?.stop(), worker?.stop()]);
    await cluster?.stop();
    await Promise.all([redis?.stop(), sink?.close()]);
    settings?.remove();
  });

  it('group and private messages cross gateways, with one cluster-wide online count', async () => {
    const users = await Promise.all(['g', 'g', 'g'].map((label) => newUser(cluster, label)));
    const sockets = [];
    for (const [i, user] of users.entries()) sockets.push(await connect(i, { token: user.token }));
    await sockets[0]!.next((f) => f.msg_type === 2 && f.user_id === users[2]!.userId);
    sockets[1]!.send({ content: 'cluster hello', msg_type: 4 });
    const frames = await Promise.all(sockets.map((s) => s.next((f) => f.content === 'cluster hello')));
    assert.equal(new Set(frames.map((f) => f.id)).size, 1);
    for (const frame of frames) assert.equal(frame.online_count, 3);

    const [alice, bob] = await Promise.all([newUser(cluster, 'pa'), newUser(cluster, 'pb')]);
    const toBob = await connect(0, { token: alice.token, kind: 'private', targetId: bob.userId });
    const toAlice = await connect(2, { token: bob.token, kind: 'private', targetId: alice.userId });
    await toBob.next((f) => f.msg_type === 2 && f.user_id === bob.userId);
    toBob.send({ content: 'psst', msg_type: 4 });
    const atBob = await toAlice.next((f) => f.content === 'psst');
    assert.equal(atBob.user_id, alice.userId);
  });

  it('a crashed gateway’s users leave everywhere; a logout closes the user’s sockets', async () => {
    const [watcher, doomed, leaving] = await Promise.all([newUser(cluster, 'w'), newUser(cluster, 'd'), newUser(cluster, 'l')]);
    const watching = await connect(0, { token: watcher.token });
    await connect(2, { token: doomed.token });
    await watching.next((f) => f.msg_type === 2 && f.user_id === doomed.userId);
    cluster.gateways[2]!.child.kill('SIGKILL');
    await cluster.gateways[2]!.exited;
    // Reaped by a surviving gateway once the lease ran out.
    await watching.next((f) => f.msg_type === 3 && f.user_id === doomed.userId, 20_000);
    await cluster.restartGateway(2);

    const socket = await connect(1, { token: leaving.token });
    const logout = await fetch(`${cluster.apiUrl}/api/users/logout`, { method: 'POST', headers: { authorization: `bearer ${leaving.token}` } });
    assert.equal(logout.status, 200);
    const closed = await socket.closed;
    assert.ok(closed.code >= 4000 || closed.code === 1008, `closed with ${closed.code}`);
  });

  it('login codes go out through the worker; failed logins are limited per account', async () => {
    const tag = `code${Date.now().toString(36)}`;
    const account = { email: `${tag}@example.com`, username: tag, password: `pw-${tag}-long` };
    const post = async (path: string, body: unknown) =>
      (await fetch(`${codeApiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<{
        code: number;
        data: { token?: string };
      }>;
    assert.equal((await post('/api/users/register', account)).code, 0);
    assert.equal((await post('/api/users/login', { email: account.email, password: account.password })).code, 0);
    const mail = await sink.waitFor((m) => JSON.stringify(m.to ?? '').includes(account.email), 20_000);
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
    assert.ok(code, 'the mail carries a 6-digit code');
    const signedIn = await post('/api/users/login', { ...account, code });
    assert.equal(signedIn.code, 0);
    assert.ok(signedIn.data.token);

    const wrong = { email: account.email, password: 'not-the-password' };
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push((await post('/api/users/login', wrong)).code);
    assert.ok(answers.slice(0, 3).every((answer) => answer !== 0 && answer !== 1007), `wrong passwords refused: ${answers.join(',')}`);
    assert.equal(answers[3], 1007, 'the fourth failure in a row is over login_per_account (3)');
  });

  it('a master killed under traffic loses no acknowledged message; /readyz and delivery recover after failover', async () => {
    const users = await Promise.all(['s0', 's1', 'r0', 'r1'].map((label) => newUser(cluster, label)));
    const [s0, s1, r0, r1] = await Promise.all(users.map((user, i) => connect(i % 3, { token: user.token })));
    await r0!.next((f) => f.msg_type === 2 && f.user_id === users[3]!.userId).catch(() => {});
    chatter = startChatter([s0!, s1!], { label: 'failover', intervalMs: 30 });
    await chatter.waitForMore(20);

    // The master of the group room's slot: its channel and presence live there.
    const killed = await redis.killMasterOf('{group}');
    await waitUntil('an API /readyz of 503 or the failover done', async () => (await readyStatus(cluster.apiUrl)) === 503 || (await isHealthy(redis)), { timeoutMs: 10_000 });
    await redis.waitHealthy(30_000);
    for (const base of [cluster.apiUrl, ...cluster.gatewayUrls]) {
      await waitUntil(`${base}/readyz = 200 after failover`, async () => (await readyStatus(base)) === 200, { timeoutMs: 30_000 });
    }
    await chatter.waitForMore(20, 60_000);
    await chatter.stop();
    assert.ok(!killed.running);
    // Refusals during the failover were resent with the same client_msg_id, as clients do.
    console.log(`failover: ${chatter.acked} messages acknowledged, ${chatter.failures.length} refusals resent`);

    const allIds = (await storedMessages(cluster.database.url)).map((m) => m.id);
    const finalId = allIds.at(-1)!;
    const firstId = chatIds(r1!)[0] ?? allIds[0]!;
    for (const [i, client] of [s0!, s1!, r0!, r1!].entries()) {
      let received = chatIds(client);
      if (client.ws.readyState !== client.ws.OPEN) {
        const again = await connect(i % 3, { token: users[i]!.token, lastId: lastChatId(client) ?? 0 });
        await waitForId(again, finalId, 30_000);
        received = [...received, ...chatIds(again)];
      } else {
        await waitForId(client, finalId, 30_000);
        received = chatIds(client);
      }
      assertSameIds(received.filter((id) => id >= firstId), allIds.filter((id) => id >= firstId), `client ${i}`);
    }
    // Live delivery is back: a new message arrives without anyone reconnecting.
    const sender = s0!.ws.readyState === s0!.ws.OPEN ? s0! : s1!;
    sender.send({ content: 'after failover', msg_type: 4 });
    for (const client of [r0!, r1!].filter((c) => c.ws.readyState === c.ws.OPEN)) await client.next((f) => f.content === 'after failover');
  });

  it('/readyz says 503 while a shard has no master, and 200 once it is back', async () => {
    // The replica promoted above has no replica of its own: with it gone, the cluster cannot
    // serve that shard's slots, and every master that answers says cluster_state:fail.
    const node = await redis.killMasterOf('{group}');
    const everyone = [cluster.apiUrl, ...cluster.gatewayUrls];
    for (const base of everyone) {
      await waitUntil(`${base}/readyz = 503 with a shard down`, async () => (await readyStatus(base)) === 503, { timeoutMs: 20_000 });
    }
    await redis.restart(node);
    await redis.waitHealthy(30_000);
    for (const base of everyone) {
      await waitUntil(`${base}/readyz = 200 with the shard back`, async () => (await readyStatus(base)) === 200, { timeoutMs: 30_000 });
    }
  });
});

async function isHealthy(redis: TestRedisCluster): Promise<boolean> {
  try {
    await redis.waitHealthy(100);
    return true;
  } catch {
    return false;
  }
}
