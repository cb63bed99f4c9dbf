import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { SignJWT } from 'jose';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';

/** Refusals before the upgrade, and bad frames answered to the sender only. */
describe('hostile clients', () => {
  let cluster: TestCluster;
  let base: string;
  let token: string;
  let userId: string;
  const clients: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ gateways: 2, env: { JWT_EXPIRES_IN_SECONDS: '3600' } });
    base = cluster.gatewayUrls[0]!;
    ({ token, userId } = await newUser(cluster, 'h'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster.stop();
  });

  /** Opens a raw upgrade and returns the HTTP status and envelope code of the refusal. */
  async function refusal(path: string, headers: Record<string, string> = {}, protocols?: string[]) {
    return new Promise<{ status: number; code: number }>((resolve, reject) => {
      const ws = new WebSocket(base.replace('http', 'ws') + path, protocols, { headers });
      ws.once('open', () => {
        ws.close();
        reject(new Error(`upgrade to ${path} was accepted`));
      });
      ws.once('error', () => {});
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, code: JSON.parse(body).code }));
      });
    });
  }
  const auth = () => `Authorization=${encodeURIComponent(`bearer ${token}`)}`;

  it('refuses bad upgrades with a clear status before any socket exists', async () => {
    const other = await newUser(cluster, 'target');
    const forged = await new SignJWT({ user_id: userId, username: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer('im-cluster')
      .setJti('forged')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-completely-different-secret-0123456789'));
    const cases: Array<[string, Record<string, string>, number, number]> = [
      ['/api/chat_groups', {}, 401, 1003],
      ['/api/chat_groups?Authorization=bearer%20garbage', {}, 401, 1003],
      [`/api/chat_groups?Authorization=${encodeURIComponent(`bearer ${forged}`)}`, {}, 401, 1003],
      [`/api/chat_groups?${auth()}`, { origin: 'http://evil.test' }, 403, 1004],
      [`/api/chat_somewhere?${auth()}`, {}, 404, 1005],
      [`/api/chat_private?${auth()}`, {}, 400, 1002],
      [`/api/chat_private?target_id=../../etc&${auth()}`, {}, 400, 1002],
      [`/api/chat_private?target_id=ffffffffff&${auth()}`, {}, 404, 1005],
      [`/api/chat_private?target_id=${userId}&${auth()}`, {}, 400, 1002],
      [`/api/chat_groups?last_id=abc&${auth()}`, {}, 400, 1002],
      [`/api/chat_groups?last_id=-1&${auth()}`, {}, 400, 1002],
    ];
    for (const [path, headers, status, code] of cases) {
      assert.deepEqual(await refusal(path, headers), { status, code }, path);
    }
    // Allowed origin and a real target work.
    const ok = await ChatClient.connect(base, { token, kind: 'private', targetId: other.userId, origin: 'http://allowed.test' });
    clients.push(ok);
  });

  it('refuses a revoked token at the upgrade', async () => {
    const user = await newUser(cluster, 'rev');
    await fetch(`${cluster.apiUrl}/api/users/logout`, { method: 'POST', headers: { authorization: `bearer ${user.token}` } });
    const path = `/api/chat_groups?Authorization=${encodeURIComponent(`bearer ${user.token}`)}`;
    assert.deepEqual(await refusal(path), { status: 401, code: 1003 });
  });

  it('answers every bad frame with a msg_type 1 error to the sender only; other sockets stay up', async () => {
    const bystanderUser = await newUser(cluster, 'by');
    const bad = await ChatClient.connect(base, { token });
    const bystander = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: bystanderUser.token });
    clients.push(bad, bystander);
    const badFrames: Array<[unknown, number]> = [
      ['this is not json', 1002],
      ['{"content": "x", "msg_type": 4', 1002],
      [{ content: 'x', msg_type: 99 }, 1002],
      [{ content: 'x', msg_type: 1 }, 1002],
      [{ content: 'x', msg_type: 2 }, 1002],
      [{ content: 'x', msg_type: '4' }, 1002],
      [{ content: 42, msg_type: 4 }, 1002],
      [{ msg_type: 4 }, 1002],
      [{ content: '   ', msg_type: 4 }, 1002],
      [{ content: 'x'.repeat(4001), msg_type: 4 }, 1008],
      [{ content: 'x', msg_type: 4, client_msg_id: 'bad id with spaces' }, 1002],
      [{ content: 'read /etc/passwd', msg_type: 5, file: { path: '/etc/passwd' } }, 1002],
      [[1, 2, 3], 1002],
      ['null', 1002],
    ];
    for (const [frame, code] of badFrames) {
      const from = bad.frames.length;
      bad.send(frame);
      const error = await bad.next((f) => f.msg_type === 1, 5_000, from);
      assert.equal(error.code, code, JSON.stringify(frame).slice(0, 60));
      assert.equal(typeof error.content, 'string');
    }
    bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await bad.next((f) => f.msg_type === 1 && f.content.includes('JSON'), 5_000, bad.frames.length)).code, 1002);

    // Nothing was stored or broadcast, and both sockets still work.
    bad.send({ content: 'after the storm', msg_type: 4 });
    await bystander.next((f) => f.content === 'after the storm');
    assert.equal(bystander.frames.filter((f) => f.msg_type === 1 && f.code !== 0).length, 0);
    assert.equal(bystander.frames.filter((f) => f.msg_type === 4).length, 1);
  });

  it('closes only the sender of an oversize frame (1009)', async () => {
    const big = await ChatClient.connect(base, { token });
    const neighbour = await ChatClient.connect(base, { token });
    clients.push(neighbour);
    big.send({ content: 'x'.repeat(20_000), msg_type: 4 });
    assert.equal((await big.closed).code, 1009);
    neighbour.send({ content: 'still alive', msg_type: 4 });
    await neighbour.next((f) => f.content === 'still alive');
  });

  it('throttles a flood with 1007 errors and keeps the socket up', async () => {
    const flooder = await ChatClient.connect(base, { token });
    clients.push(flooder);
    for (let i = 0; i < 60; i++) flooder.send({ content: `flood ${i}`, msg_type: 4 });
    const throttled = await flooder.next((f) => f.msg_type === 1 && f.code === 1007);
    assert.ok(throttled);
    await flooder.next((f) => f.content === 'flood 0');
    assert.equal(flooder.ws.readyState, flooder.ws.OPEN);
    const stored = flooder.frames.filter((f) => f.msg_type === 4 && String(f.content).startsWith('flood')).length;
    assert.ok(stored < 60, `all ${stored} flood messages were accepted`);
  });

  it('the gateway process is still healthy after all of it', async () => {
    for (const url of cluster.gatewayUrls) assert.equal((await fetch(`${url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /im_gateway_frames_rejected_total\{reason="json"/);
    assert.match(metrics, /im_gateway_upgrades_rejected_total\{status="401"/);
  });
});

describe('dead peers', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({
      gateways: 1,
      env: { GATEWAY_HEARTBEAT_MS: '400' },
    });
  });
  after(() => cluster.stop());

  it('drops a peer that stops answering pings, and others see it leave', async () => {
    const watcher = await newUser(cluster, 'hb');
    const silent = await newUser(cluster, 'hb');
    const w = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: watcher.token });
    const { ws } = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: silent.token, wsOptions: { autoPong: false }, waitForWelcome: false });
    await w.next((f) => f.msg_type === 2 && f.user_id === silent.userId);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await w.next((f) => f.msg_type === 3 && f.user_id === silent.userId, 5_000);
    assert.equal(await closed, 1006);
    // A peer that answers stays, however many heartbeats pass.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(w.ws.readyState, w.ws.OPEN, 'a peer answering pings was dropped');
    await w.close();
  });

});

describe('slow consumers', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ gateways: 1, env: { GATEWAY_MAX_BUFFERED_BYTES: '65536' } });
  });
  after(() => cluster.stop());

  it('sheds a consumer that stops reading instead of buffering without bound', async () => {
    const senders = await Promise.all(Array.from({ length: 8 }, () => newUser(cluster, 'fast')));
    const slow = await newUser(cluster, 'slow');
    const sockets = await Promise.all(senders.map((u) => ChatClient.connect(cluster.gatewayUrls[0]!, { token: u.token })));
    const lazy = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: slow.token });
    // Stop reading: the kernel buffers fill, then the gateway's own send buffer for this socket.
    (lazy.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const text = '满'.repeat(3_990); // ~12 KB per frame
    const started = Date.now();
    for (let round = 0; lazy.ws.readyState === lazy.ws.OPEN && Date.now() - started < 40_000; round++) {
      for (const socket of sockets) socket.send({ content: `${text}${round}`, msg_type: 4 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      const metrics = await (await fetch(`${cluster.gatewayUrls[0]}/metrics`)).text();
      if (/im_gateway_sockets_shed_total\{[^}]*\} [1-9]/.test(metrics)) break;
    }
    const metrics = await (await fetch(`${cluster.gatewayUrls[0]}/metrics`)).text();
    assert.match(metrics, /im_gateway_sockets_shed_total\{[^}]*\} [1-9]/);
    for (const socket of sockets) assert.equal(socket.ws.readyState, socket.ws.OPEN, 'readers are not affected');
    await Promise.all(sockets.map((socket) => socket.close()));
    lazy.ws.terminate();
  });
});

describe('token expiry', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ gateways: 1, env: { JWT_EXPIRES_IN_SECONDS: '4' } });
  });
  after(() => cluster.stop());

  it('closes each socket with 4002 when its token expires, on time', async () => {
    // Two tokens a second apart, the later one's socket opened first: each closes at its own exp.
    const early = await newUser(cluster, 'exp');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const late = await newUser(cluster, 'exp');
    const [lateSocket, earlySocket] = await Promise.all(
      [late, early].map((u) => ChatClient.connect(cluster.gatewayUrls[0]!, { token: u.token })),
    );
    const closes = await Promise.all(
      [earlySocket!, lateSocket!].map((s) => s.closed.then((close) => ({ ...close, at: Date.now() }))),
    );
    for (const [i, user] of [early, late].entries()) {
      const expMs = (JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
      assert.equal(closes[i]!.code, 4002);
      const offset = closes[i]!.at - expMs;
      assert.ok(offset >= 0 && offset < 2_000, `socket ${i} closed ${offset} ms after its token expired`);
    }
  });
});
