import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient, type UpgradeRefused } from '../support/chat-client.ts';

const CAP = 3;

/**
 * gateway.max_connections_per_user: the newest handshake over the cap is refused before any socket
 * exists (429 / 1007, Retry-After), the user's open sockets stay open, other users are not
 * affected, and a closed socket frees its slot.
 */
describe('per-user connection cap', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ gateways: 1, env: { GATEWAY_MAX_CONNECTIONS_PER_USER: String(CAP) } });
  });
  after(async () => {
    await cluster?.stop();
  });

  const connect = (token: string) => ChatClient.connect(cluster.gatewayUrls[0]!, { token });

  it('refuses the newest handshake over the cap with 429 / 1007 and keeps the open sockets', async () => {
    const user = await newUser(cluster, 'capped');
    const other = await newUser(cluster, 'other');
    const open = await Promise.all(Array.from({ length: CAP }, () => connect(user.token)));

    const refused = await connect(user.token).then(
      () => assert.fail('a socket over the cap was opened'),
      (err: UpgradeRefused) => err,
    );
    assert.equal(refused.status, 429);
    const body = JSON.parse(refused.body);
    assert.equal(body.code, 1007);
    assert.equal(body.data.max_connections, CAP);
    assert.equal(typeof body.data.retry_after_seconds, 'number');
    const raw = await rawUpgrade(cluster.gatewayUrls[0]!, user.token);
    assert.equal(raw.status, 429);
    assert.equal(raw.retryAfter, String(body.data.retry_after_seconds));

    // The open ones still work, and another user is not counted against this one.
    open[0]!.send({ msg_type: 4, content: 'still here', client_msg_id: 'cap-1' });
    await open[0]!.next((f) => f.client_msg_id === 'cap-1' && f.id !== undefined);
    const theirs = await connect(other.token);

    // A closed socket frees its slot.
    await open[1]!.close();
    const again = await eventually(() => connect(user.token));
    for (const client of [open[0]!, open[2]!, again, theirs]) await client.close();
  });

  it('lets exactly the cap through when handshakes arrive together, and frees refused ones', async () => {
    const user = await newUser(cluster, 'burst');
    const results = await Promise.allSettled(Array.from({ length: CAP * 4 }, () => connect(user.token)));
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const statuses = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as UpgradeRefused).status] : []));
    assert.equal(opened.length, CAP);
    assert.deepEqual(new Set(statuses), new Set([429]));
    // Refused handshakes held no slot; closing every socket frees them all.
    for (const client of opened) await client.close();
    const reopened: ChatClient[] = [];
    for (let i = 0; i < CAP; i += 1) reopened.push(await eventually(() => connect(user.token)));
    for (const client of reopened) await client.close();
  });
});

/** The status and Retry-After header of a handshake, read as plain HTTP. */
function rawUpgrade(base: string, token: string): Promise<{ status: number; retryAfter: string | undefined }> {
  const url = new URL(`/api/chat_groups?Authorization=${encodeURIComponent(`bearer ${token}`)}`, base);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, retryAfter: undefined });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Retries `attempt` until it succeeds: the gateway frees a slot when it sees the socket close. */
async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
