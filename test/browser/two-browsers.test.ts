import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@im/testing';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';
import { freePortRange, signUp } from '../e2e/e2e-helpers.ts';

/**
 * Two real browsers (two Chromium contexts: separate cookie jars, caches and sockets) chat through
 * the cluster that the start command brings up, exactly as a web client would: the page comes from
 * its own origin (a tiny static server here, standing in for the web app's host), which is the only
 * entry in ALLOWED_ORIGINS; the token travels in `?Authorization=bearer%20<jwt>` because browsers
 * cannot set headers on a WebSocket; avatars load through a plain `<img>`.
 *
 * Chromium comes from the system (Debian's `chromium` package, see .ci/run); playwright-core only
 * drives it. Without it the test is reported as skipped, never as passed.
 */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The web app: a minimal chat client on the page's own origin, driven by the test. */
const PAGE = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>IM browser client</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  #sockets span { display: inline-block; margin-right: 12px; padding: 2px 6px; border-radius: 4px; background: #eee; }
  #log { list-style: none; padding: 0; }
  #log li { padding: 3px 0; border-bottom: 1px solid #eee; }
  #log .sys { color: #888; }
  #log .who { font-weight: 600; margin-right: 6px; }
  #log .room { color: #06c; margin-right: 6px; }
  #avatar img { width: 60px; height: 60px; border: 1px solid #ccc; vertical-align: middle; margin-right: 8px; }
</style>
</head>
<body>
<h1 id="who">not signed in</h1>
<div id="sockets"></div>
<div id="avatar"></div>
<ul id="log"></ul>
<script>
(() => {
  const log = document.getElementById('log');
  const sockets = {};
  const frames = [];
  const waiters = new Set();
  const wake = () => { for (const w of waiters) w(); };
  const line = (room, frame) => {
    const li = document.createElement('li');
    const tag = document.createElement('span');
    tag.className = 'room';
    tag.textContent = '[' + room + ']';
    li.append(tag);
    if (frame.msg_type === 4) {
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = frame.username + (frame.target_name ? ' → ' + frame.target_name : '') + ':';
      li.append(who, document.createTextNode(frame.content));
    } else {
      li.className = 'sys';
      const text = { 1: 'notice', 2: 'joined', 3: 'left' }[frame.msg_type] || ('type ' + frame.msg_type);
      li.append(document.createTextNode(text + ': ' + (frame.username || frame.content || '') + ' (online ' + frame.online_count + ')'));
    }
    log.append(li);
  };
  const badge = (name, text) => {
    let el = document.getElementById('sock-' + name);
    if (!el) {
      el = document.createElement('span');
      el.id = 'sock-' + name;
      document.getElementById('sockets').append(el);
    }
    el.textContent = name + ': ' + text;
  };
  window.im = {
    frames,
    signedIn(name) { document.getElementById('who').textContent = 'signed in as ' + name; },
    // Opens a chat socket the way the contract tells browsers to: the token in the query.
    open(name, wsBase, path, token, query) {
      const url = wsBase + path + '?' + (query ? query + '&' : '') + 'Authorization=bearer%20' + encodeURIComponent(token);
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        sockets[name] = ws;
        badge(name, 'connecting');
        let welcomed = false;
        ws.onmessage = (event) => {
          const frame = JSON.parse(event.data);
          frames.push({ socket: name, frame });
          line(name, frame);
          if (!welcomed && frame.msg_type === 1 && frame.code === 0) {
            welcomed = true;
            badge(name, 'in the room');
            resolve();
          }
          wake();
        };
        ws.onclose = (event) => {
          badge(name, 'closed ' + event.code);
          if (!welcomed) reject(new Error(name + ': closed (' + event.code + ') before the welcome notice'));
          wake();
        };
      });
    },
    send(name, frame) { sockets[name].send(JSON.stringify(frame)); },
    close(name) {
      const ws = sockets[name];
      if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise((resolve) => { ws.addEventListener('close', () => resolve()); ws.close(1000); });
    },
    // The first frame on socket \`name\` whose fields equal every field of \`match\`.
    next(name, match, timeoutMs) {
      const find = () => frames.find((f) => f.socket === name && Object.entries(match).every(([k, v]) => f.frame[k] === v));
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = find();
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit.frame);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(name + ': no frame matching ' + JSON.stringify(match) + ' within ' + timeoutMs + ' ms; last: ' +
            JSON.stringify(frames.filter((f) => f.socket === name).slice(-3).map((f) => f.frame))));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    // An <img> the way a chat UI shows a sender's avatar; resolves once the image has decoded.
    async showAvatar(src, caption) {
      const img = document.createElement('img');
      img.alt = caption;
      img.src = src;
      const holder = document.getElementById('avatar');
      holder.append(img, document.createTextNode(caption));
      await img.decode();
      return { naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, complete: img.complete };
    },
  };
})();
</script>
</body>
</html>
`;

/** The page's helpers, as seen from the test (they run inside the browser). */
interface PageIm {
  signedIn(name: string): void;
  open(name: string, wsBase: string, path: string, token: string, query?: string): Promise<void>;
  send(name: string, frame: unknown): void;
  close(name: string): Promise<void>;
  next(name: string, match: Record<string, unknown>, timeoutMs: number): Promise<any>;
  showAvatar(src: string, caption: string): Promise<{ naturalWidth: number; naturalHeight: number; complete: boolean }>;
}
const im = (page: Page) => ({
  signedIn: (name: string) => page.evaluate((n) => (window as unknown as { im: PageIm }).im.signedIn(n), name),
  open: (name: string, wsBase: string, path: string, token: string, query = '') =>
    page.evaluate(([n, b, p, t, q]) => (window as unknown as { im: PageIm }).im.open(n, b, p, t, q), [name, wsBase, path, token, query] as const),
  send: (name: string, frame: unknown) => page.evaluate(([n, f]) => (window as unknown as { im: PageIm }).im.send(n, f), [name, frame] as const),
  close: (name: string) => page.evaluate((n) => (window as unknown as { im: PageIm }).im.close(n), name),
  next: (name: string, match: Record<string, unknown>, timeoutMs = 10_000) =>
    page.evaluate(([n, m, ms]) => (window as unknown as { im: PageIm }).im.next(n, m, ms), [name, match, timeoutMs] as const),
  showAvatar: (src: string, caption: string) =>
    page.evaluate(([s, c]) => (window as unknown as { im: PageIm }).im.showAvatar(s, c), [src, caption] as const),
});

test('two browsers chat through the front door, each on its own gateway', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`chromium not installed (${CHROMIUM}; apt-get install -y chromium)`);
    return;
  }

  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanup.reverse()) await undo();
  });

  // The web app's own origin, which the gateways must accept.
  const pageServer: Server = createServer((req, res) => {
    res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/' ? PAGE : 'not found');
  });
  pageServer.listen(0, '127.0.0.1');
  await once(pageServer, 'listening');
  cleanup.push(() => new Promise((resolve) => pageServer.close(resolve)));
  const pageOrigin = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}`;

  const database: TestDatabase = await createTestDatabase();
  cleanup.push(() => database.drop());
  const scratch = mkdtempSync(join(tmpdir(), 'im-browser-'));
  cleanup.push(() => rmSync(scratch, { recursive: true, force: true }));
  const port = await freePort();
  const apiPort = await freePort();
  const gatewayBase = await freePortRange(2);
  const cluster: RunningProcess = startProcess('scripts/start.ts', {
    DATABASE_URL: database.url,
    REDIS_PREFIX: uniquePrefix('browser'),
    EMAIL_VERIFICATION: 'false',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    API_PORT: String(apiPort),
    WORKER_PORT: String(await freePort()),
    GATEWAY_COUNT: '2',
    GATEWAY_BASE_PORT: String(gatewayBase),
    FRONT_DOOR: 'auto', // nginx when installed, else the built-in proxy
    NGINX_PREFIX: join(scratch, 'nginx'),
    UPLOAD_ROOT: join(scratch, 'uploads'),
    MAIL_OUTBOX_DIR: join(scratch, 'outbox'),
    ALLOWED_ORIGINS: pageOrigin,
  });
  cleanup.push(() => cluster.stop());
  await cluster.waitForLine('IM cluster is up', 60_000);
  const frontDoor = cluster.output.find((l) => l.startsWith('  front door '))?.trim() ?? '?';
  t.diagnostic(frontDoor.split(/[:(]/)[0]!.trim());

  // The gateways' own ports, from the banner (`gw-0 ws://127.0.0.1:8101, gw-1 ws://…`).
  const banner = cluster.output.find((l) => l.startsWith('  gateways '))!;
  const gateways = [...banner.matchAll(/(gw-\d+) ws:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => ({ id: m[1]!, port: Number(m[2]) }));
  assert.equal(gateways.length, 2, banner);

  const publicBase = `http://127.0.0.1:${port}`;
  const wsPublic = `ws://127.0.0.1:${port}`;
  const alice = await signUp(publicBase, 'alice');
  const bob = await signUp(publicBase, 'bob');

  /** Open sockets per gateway, from each gateway's /metrics. */
  const connections = async () =>
    Promise.all(
      gateways.map(async (g) => {
        const text = await (await fetch(`http://127.0.0.1:${g.port}/metrics`)).text();
        const value = /^im_gateway_connections(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
        assert.ok(value !== undefined, `${g.id} exports im_gateway_connections`);
        return Number(value);
      }),
    );
  const settle = async (total: number) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const counts = await connections();
      if (counts.reduce((a, b) => a + b, 0) === total) return counts;
      if (Date.now() > deadline) throw new Error(`expected ${total} open sockets, gateways report ${counts.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  cleanup.push(() => browser.close());
  // Two contexts: as far as the server can tell, two different browsers.
  const contextA = await browser.newContext({ viewport: { width: 640, height: 420 }, userAgent: 'im-browser-test A' });
  const contextB = await browser.newContext({ viewport: { width: 640, height: 420 }, userAgent: 'im-browser-test B' });
  const pageA = await contextA.newPage();
  const pageB = await contextB.newPage();
  const errors: string[] = [];
  for (const [label, page] of [['A', pageA], ['B', pageB]] as const) {
    page.on('pageerror', (err) => errors.push(`${label}: ${err.message}`));
    await page.goto(`${pageOrigin}/`);
  }
  // Each step runs only when the ones before it passed (they build on each other); a failing step
  // shows what the cluster printed last.
  let failed = false;
  const step = (name: string, fn: (st: TestContext) => Promise<void>) =>
    t.test(name, { skip: failed ? 'an earlier step failed' : false }, async (st) => {
      try {
        await fn(st);
      } catch (err) {
        failed = true;
        st.diagnostic(`cluster output (last 20 lines):\n${cluster.output.slice(-20).join('\n')}`);
        throw err;
      }
    });

  const a = im(pageA);
  const b = im(pageB);
  await a.signedIn(alice.username);
  await b.signedIn(bob.username);

  await step('the two browsers are served by different gateways, through the front door', async (st) => {
    await a.open('group', wsPublic, '/api/chat_groups', alice.token);
    const afterA = await settle(1);
    const gwA = afterA.indexOf(1);
    const other = 1 - gwA;

    // The front door sends a handshake to the gateway with the fewest sockets, so Bob should land
    // on the other one; give it a few tries, then go to that gateway directly.
    let via = '';
    for (let attempt = 1; attempt <= 3 && !via; attempt += 1) {
      await b.open('group', wsPublic, '/api/chat_groups', bob.token);
      const counts = await settle(2);
      if (counts[other] === 1) via = `the front door (attempt ${attempt})`;
      else {
        await b.close('group');
        await settle(1);
      }
    }
    if (!via) {
      await b.open('group', `ws://127.0.0.1:${gateways[other]!.port}`, '/api/chat_groups', bob.token);
      via = `${gateways[other]!.id} directly (the front door kept choosing ${gateways[gwA]!.id})`;
    }
    assert.deepEqual(await settle(2), [1, 1], 'one socket on each gateway');
    st.diagnostic(`browser A (front door) → ${gateways[gwA]!.id}; browser B via ${via} → ${gateways[other]!.id}`);
  });

  await step('a group message typed in one browser arrives in the other, both ways', async () => {
    await a.next('group', { msg_type: 2, user_id: bob.userId });

    await a.send('group', { content: 'hello from browser A', msg_type: 4, client_msg_id: 'a-1' });
    const atB = await b.next('group', { msg_type: 4, content: 'hello from browser A' });
    assert.equal(atB.user_id, alice.userId);
    assert.equal(atB.username, alice.username);
    assert.equal(typeof atB.id, 'number');
    const echoA = await a.next('group', { msg_type: 4, client_msg_id: 'a-1' });
    assert.equal(echoA.id, atB.id, 'the echo is the same stored message');

    await b.send('group', { content: '你好 from browser B', msg_type: 4, client_msg_id: 'b-1' });
    const atA = await a.next('group', { msg_type: 4, content: '你好 from browser B' });
    assert.equal(atA.user_id, bob.userId);
    assert.ok(atA.id > atB.id, 'ids increase in the order the room stored them');
  });

  await step('a private message from A arrives in B', async () => {
    await b.open('private', wsPublic, '/api/chat_private', bob.token, `target_id=${alice.userId}`);
    await a.open('private', wsPublic, '/api/chat_private', alice.token, `target_id=${bob.userId}`);
    await a.send('private', { content: 'just for you, B', msg_type: 4, client_msg_id: 'a-p1' });
    const atB = await b.next('private', { msg_type: 4, content: 'just for you, B' });
    assert.equal(atB.user_id, alice.userId);
    assert.equal(atB.target_id, bob.userId);
    assert.equal(atB.target_name, bob.username);
    await a.next('private', { msg_type: 4, client_msg_id: 'a-p1' });
    // Not in the group room.
    const groupTexts = await pageB.evaluate(() =>
      (window as unknown as { im: { frames: { socket: string; frame: { content?: string } }[] } }).im.frames
        .filter((f) => f.socket === 'group')
        .map((f) => f.frame.content),
    );
    assert.ok(!groupTexts.includes('just for you, B'));
  });

  await step("B's page loads A's avatar in an <img> from the frame's avatar path", async () => {
    const frame = await b.next('group', { msg_type: 4, user_id: alice.userId });
    assert.equal(frame.avatar, `uploads/avatar/${alice.userId}.png`);
    const src = new URL(frame.avatar, `${publicBase}/`).toString();
    const image = await b.showAvatar(src, `${alice.username}'s avatar`);
    assert.ok(image.complete && image.naturalWidth > 0 && image.naturalHeight > 0, JSON.stringify(image));
  });

  // Taken even after a failed step: the pages show what each browser got.
  await t.test('screenshots of both pages', async (st) => {
    const dir = process.env.IM_BROWSER_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'im-browser-shots-'));
    for (const [label, page] of [['a', pageA], ['b', pageB]] as const) {
      const file = join(dir, `browser-${label}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(existsSync(file));
    }
    st.diagnostic(`screenshots in ${dir}`);
  });

  if (failed) return;
  await a.close('group');
  await b.close('group');
  assert.deepEqual(errors, [], 'no script errors on either page');
  const output = cluster.output.join('\n');
  for (const token of [alice.token, bob.token]) assert.ok(!output.includes(token), 'no token on the cluster output');
});
