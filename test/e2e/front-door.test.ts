import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@im/testing';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';
import { ChatClient } from '../support/chat-client.ts';
import { findNginx } from '../../scripts/cluster/front-door.ts';
import { freePortRange, getFrom, isListening, pidOf, signUp } from './e2e-helpers.ts';

/**
 * The whole cluster from the start command, used only through its public port, as a browser
 * would: once with nginx in front (FRONT_DOOR=nginx; CI installs it) and once as on a machine
 * without nginx, where the start command falls back to its built-in Node proxy.
 */
const nginxInstalled = findNginx() !== undefined;

for (const kind of ['nginx', 'node'] as const) {
  describe(`front door (${kind}): two gateways and the API on one port`, { skip: kind === 'nginx' && !nginxInstalled ? 'nginx not installed' : false }, () => {
    let database: TestDatabase;
    let cluster: RunningProcess;
    let nginxPrefix: string;
    let webRoot: string;
    let port: number;
    let apiPort: number;
    let gatewayBase: number;
    let base: string;
    let origin: string;
    const tokens: string[] = [];

    before(async () => {
      database = await createTestDatabase();
      port = await freePort();
      apiPort = await freePort();
      gatewayBase = await freePortRange(2);
      base = `http://127.0.0.1:${port}`;
      origin = base;
      nginxPrefix = mkdtempSync(join(tmpdir(), `im-e2e-${kind}-`));
      // A stand-in for the built web app (the real build is served in test/browser).
      webRoot = join(nginxPrefix, 'web');
      mkdirSync(join(webRoot, 'assets'), { recursive: true });
      writeFileSync(join(webRoot, 'index.html'), INDEX_HTML);
      writeFileSync(join(webRoot, 'assets/app-3f9a1c2b.js'), APP_JS);
      writeFileSync(join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
      cluster = startProcess('scripts/start.ts', {
        DATABASE_URL: database.url,
        REDIS_PREFIX: uniquePrefix(`door-${kind}`),
        EMAIL_VERIFICATION: 'false',
        // info: the API's request lines show which client address it saw.
        LOG_LEVEL: 'info',
        PORT: String(port),
        API_PORT: String(apiPort),
        WORKER_PORT: String(await freePort()),
        GATEWAY_COUNT: '2',
        GATEWAY_BASE_PORT: String(gatewayBase),
        ...(kind === 'nginx' ? { FRONT_DOOR: 'nginx' } : { FRONT_DOOR: 'auto', NGINX_BIN: join(nginxPrefix, 'no-nginx-here') }),
        NGINX_PREFIX: nginxPrefix,
        WEB_ROOT: webRoot,
        ALLOWED_ORIGINS: origin,
        PRESENCE_LEASE_MS: '1500',
        PRESENCE_HEARTBEAT_MS: '500',
      });
      await cluster.waitForLine('IM cluster is up', 90_000);
    });

    after(async () => {
      await cluster?.stop();
      await database?.drop();
      rmSync(nginxPrefix, { recursive: true, force: true });
    });

    const user = async (label: string) => {
      const account = await signUp(base, label);
      tokens.push(account.token);
      return account;
    };

    it('names the front door in use in the banner, and without nginx how to get it', () => {
      const at = cluster.output.findIndex((l) => l.startsWith('  front door '));
      const lines = cluster.output.slice(at, at + 2).join('\n');
      if (kind === 'nginx') {
        assert.match(lines, /front door +nginx [\d.]+ \(config .*im-cluster\.conf, access log .*access\.log\)/);
      } else {
        assert.match(lines, /front door +built-in Node proxy: nginx was not found\. Fine for development/);
        assert.match(lines, /apt-get install -y nginx\) and npm run up uses it/);
      }
    });

    it('serves the HTTP API through the public port', async () => {
      const alice = await user('alice');
      const response = await fetch(`${base}/api/users`, { headers: { authorization: `bearer ${alice.token}` } });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.code, 0);
      assert.ok(body.data.list.some((u: { user_id: string }) => u.user_id === alice.userId));
    });

    it('serves the web app at /: hashed assets cached for a year, everything else revalidated, unknown paths get index.html', async () => {
      const index = await fetch(`${base}/`);
      assert.equal(index.status, 200);
      assert.match(index.headers.get('content-type')!, /^text\/html/);
      assert.equal(index.headers.get('cache-control'), 'no-cache');
      assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await index.text(), INDEX_HTML);
      const etag = index.headers.get('etag')!;
      assert.equal((await fetch(`${base}/`, { headers: { 'if-none-match': etag } })).status, 304, 'revalidation is cheap');

      const asset = await fetch(`${base}/assets/app-3f9a1c2b.js`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('content-type')!, /^text\/javascript/);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(await asset.text(), APP_JS);
      assert.equal((await fetch(`${base}/favicon.svg`)).headers.get('content-type')?.split(';')[0], 'image/svg+xml');

      for (const path of ['/chat/some-room', '/settings']) {
        const deep = await fetch(base + path);
        assert.equal(deep.status, 200, path);
        assert.equal(await deep.text(), INDEX_HTML, `${path} is the app's own route`);
      }
      assert.equal((await fetch(`${base}/assets/app-00000000.js`)).status, 404, 'a missing asset is not the app');
      // The API keeps its paths; the app's paths are files, read-only.
      for (const path of ['/api/nothing-here', '/uploads/avatar/none.png']) {
        const answer = await fetch(base + path);
        assert.equal(answer.status, 404, path);
        assert.equal((await answer.json()).code, 1005, `${path} is answered by the API`);
      }
      assert.equal((await (await fetch(`${base}/healthz`)).json()).code, 0);
      assert.equal((await fetch(`${base}/`, { method: 'POST' })).status, 405);
    });

    it('carries a group message from one user to another over WebSockets on the public port', async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const a = await ChatClient.connect(base, { token: alice.token, origin });
      const b = await ChatClient.connect(base, { token: bob.token, origin });
      await a.next((f) => f.msg_type === 2 && f.user_id === bob.userId);
      a.send({ content: 'through the front door', msg_type: 4 });
      const got = await b.next((f) => f.msg_type === 4);
      assert.equal(got.content, 'through the front door');
      assert.equal(got.user_id, alice.userId);
      await a.close();
      await b.close();
    });

    it('passes Origin, the token header and Sec-WebSocket-Protocol through unchanged', async () => {
      const carol = await user('carol');
      const refused = await ChatClient.connect(base, { token: carol.token, origin: 'http://elsewhere.test' }).then(
        () => undefined,
        (err: { status?: number; body?: string }) => err,
      );
      assert.equal(refused?.status, 403, 'the gateway saw the foreign Origin and refused it');
      assert.equal(JSON.parse(refused!.body!).code, 1004);

      const viaHeader = await ChatClient.connect(base, { token: carol.token, origin, tokenIn: 'header' });
      const viaProtocol = await ChatClient.connect(base, { token: carol.token, origin, tokenIn: 'subprotocol' });
      assert.equal(viaProtocol.ws.protocol, 'bearer');
      await viaHeader.close();
      await viaProtocol.close();
    });

    it('lets the API see the client address (X-Forwarded-For), not the proxy address', async () => {
      const probe = `/api/probe-${Math.random().toString(36).slice(2)}`;
      assert.equal(await getFrom('127.0.0.2', base + probe), 404);
      await waitFor(() => cluster.output.some((l) => l.includes(probe) && l.includes('"service":"api"')));
      const line = cluster.output.find((l) => l.includes(probe) && l.includes('"service":"api"'))!;
      assert.equal(JSON.parse(line).ip, '127.0.0.2');
    });

    it('ties a request to its log lines with one request id, the client\'s own or a new one', async () => {
      const probe = `/api/probe-${Math.random().toString(36).slice(2)}`;
      const response = await fetch(base + probe);
      const id = response.headers.get('x-request-id') ?? '';
      // nginx's $request_id; without nginx the API makes one.
      assert.match(id, kind === 'nginx' ? /^[0-9a-f]{32}$/ : /^[0-9a-f-]{36}$/);
      await waitFor(() => cluster.output.some((l) => l.includes(probe) && l.includes('"service":"api"')));
      assert.equal(JSON.parse(cluster.output.find((l) => l.includes(probe) && l.includes('"service":"api"'))!).request_id, id);
      if (kind === 'nginx') {
        await waitFor(() => accessLog().includes(probe));
        const entry = accessLog().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.path === probe);
        assert.equal(entry.request_id, id);
      }
      const given = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'client-chosen-42' } });
      assert.equal(given.headers.get('x-request-id'), 'client-chosen-42');
    });

    it('passes over a killed gateway: new sockets open on the other one while it restarts', async () => {
      const dave = await user('dave');
      const erin = await user('erin');
      process.kill(pidOf(cluster.output, 'gw-0'), 'SIGKILL');
      await cluster.waitForLine('gw-0 exited unexpectedly (SIGKILL); restarting it in 1 s');

      const clients = [];
      for (const account of [dave, erin, dave]) clients.push(await ChatClient.connect(base, { token: account.token, origin }));
      const [d, e] = clients;
      await d!.next((f) => f.msg_type === 2 && f.user_id === erin.userId);
      d!.send({ content: 'still here', msg_type: 4 });
      assert.equal((await e!.next((f) => f.msg_type === 4 && f.content === 'still here')).user_id, dave.userId);
      for (const client of clients) await client.close();

      // The handshake that met the dead gateway went on to the live one.
      const deadUpstream = `127.0.0.1:${gatewayBase}`;
      if (kind === 'nginx') {
        await waitFor(() => accessLog().includes(`"upstream":"${deadUpstream}, `));
      } else {
        assert.ok(cluster.output.some((l) => l.includes('gateway failed a handshake') && l.includes(deadUpstream)));
      }

      await cluster.waitForLine('gw-0: restarted (pid');
      assert.equal(await isListening(gatewayBase), true);
    });

    it('never writes a token to a log; nginx logs the chat path with Authorization=[redacted]', { skip: kind !== 'nginx' ? 'no access log without nginx' : false }, async () => {
      await waitFor(() => accessLog().includes('"path":"/api/chat_groups"') && accessLog().includes('Authorization=[redacted]'));
      // A signed file link downloads without a token while it lives: its signature is a secret too.
      const signature = 'S1gnatureThatMustNotBeLogged0123456789abcd';
      await fetch(`${base}/api/files/download?file=x.png&expires=1&sig=${signature}`);
      await waitFor(() => accessLog().includes('file=x.png&expires=1&sig=[redacted]'));
      const log = accessLog();
      assert.ok(!log.includes(signature), 'no link signature in the access log');
      assert.ok(tokens.length >= 5);
      for (const token of tokens) assert.ok(!log.includes(token), 'no token in the access log');
      assert.ok(!/eyJ[\w-]{10,}/.test(log), 'nothing JWT-shaped in the access log');
    });

    it('never prints a token on the cluster output', () => {
      const text = cluster.output.join('\n');
      for (const token of tokens) assert.ok(!text.includes(token));
    });

    it('stops everything on SIGTERM with exit code 0', async () => {
      assert.equal(await cluster.stop(), 0);
      for (const p of [port, apiPort, gatewayBase, gatewayBase + 1]) assert.equal(await isListening(p), false, `port ${p} is closed`);
    });

    function accessLog(): string {
      const file = join(nginxPrefix, 'logs/access.log');
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
  });
}

const INDEX_HTML = '<!doctype html><title>IM</title><script type="module" src="/assets/app-3f9a1c2b.js"></script>\n';
const APP_JS = 'console.log("the app");\n';

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
