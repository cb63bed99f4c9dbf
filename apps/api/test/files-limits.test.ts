import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, type TestApi } from './support/start-api.ts';
import { registerAndLogin } from './support/accounts.ts';
import { multipart, uploadFile, uploadTree } from './files-support.ts';

const MAX_FILE = 100_000;
const QUOTA = 250_000;

/** Text of `size` bytes: an allowed type, so only the size decides. */
const text = (size: number) => Buffer.alloc(size, 'abcdefghij\n');

describe('files: size limits, quota and aborted uploads', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ overrides: { upload: { max_file_bytes: MAX_FILE, quota_bytes_per_user: QUOTA } } });
  });
  after(async () => {
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('an oversize upload is refused with 413 and leaves no file, no temp file and no row', async () => {
    const { token } = await registerAndLogin(api, 'big');
    const tree = await uploadTree(api);
    const rows = await api.db.file.count();

    const justOver = await uploadFile(api, token, 'big.txt', text(MAX_FILE + 1));
    assert.equal(justOver.status, 413);
    assert.equal(justOver.json?.code, 1008);

    // Far over: the server stops storing at the limit and throws the rest of the body away.
    const farOver = await uploadFile(api, token, 'huge.txt', text(5 * 1024 * 1024));
    assert.equal(farOver.status, 413);

    assert.deepEqual(await uploadTree(api), tree);
    assert.equal(await api.db.file.count(), rows);

    const exact = await uploadFile(api, token, 'exact.txt', text(MAX_FILE));
    assert.equal(exact.json?.code, 0, 'exactly the limit is fine');
  });

  it('an upload claiming 300 MiB gets its 413, then the connection is closed instead of read to the end', async () => {
    const { token } = await registerAndLogin(api, 'flood');
    const claimed = 300 * 1024 * 1024;
    const boundary = 'im-test-flood';
    const url = new URL(api.url);
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let isClosed = false;
    void closed.then(() => (isClosed = true));

    socket.write(
      `POST /api/files/upload HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: bearer ${token}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${claimed}\r\n\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="flood.txt"\r\nContent-Type: text/plain\r\n\r\n`,
    );
    // Sends as fast as the server takes it, until the server closes the connection or all is sent.
    const chunk = Buffer.alloc(256 * 1024, 'abcdefghij\n');
    let sent = 0;
    while (!isClosed && sent < claimed) {
      sent += chunk.length;
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
    }
    await closed;

    assert.match(answer, /^HTTP\/1\.1 413 /, 'the answer arrived before the connection closed');
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).code, 1008);
    assert.ok(sent < claimed, `closed after ${sent} of ${claimed} bytes, not after reading them all`);
  });

  it('the per-user quota counts stored files and refuses what would exceed it', async () => {
    const { token, user } = await registerAndLogin(api, 'quota');
    const other = await registerAndLogin(api, 'quota2');
    for (let i = 0; i < 2; i++) {
      const answer = await uploadFile(api, token, `part${i}.txt`, text(90_000));
      assert.equal(answer.json?.code, 0, answer.json?.msg);
    }
    const tree = await uploadTree(api);
    const over = await uploadFile(api, token, 'part2.txt', text(90_000));
    assert.equal(over.status, 413);
    assert.equal(over.json?.code, 1008);
    assert.match(over.json!.msg, /空间/);
    assert.deepEqual(await uploadTree(api), tree);
    assert.equal(await api.db.file.count({ where: { ownerId: user.user_id } }), 2);

    // What still fits is accepted; then even one byte is refused before the body is read.
    assert.equal((await uploadFile(api, token, 'fits.txt', text(QUOTA - 180_000))).json?.code, 0);
    const full = await uploadFile(api, token, 'one.txt', 'x');
    assert.equal(full.status, 413);

    // Files sent to someone count against the sender only.
    assert.equal((await uploadFile(api, other.token, 'mine.txt', text(1000))).json?.code, 0);
  });

  it('parallel uploads cannot together exceed the quota', async () => {
    const { token, user } = await registerAndLogin(api, 'race');
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => uploadFile(api, token, `r${i}.txt`, text(90_000))));
    const accepted = answers.filter((a) => a.json?.code === 0).length;
    assert.equal(accepted, 2, answers.map((a) => a.json?.msg).join(', '));
    const { _sum } = await api.db.file.aggregate({ where: { ownerId: user.user_id }, _sum: { size: true } });
    assert.ok(Number(_sum.size) <= QUOTA);
  });

  it('a client that hangs up mid-upload leaves no file, no temp file and no row', async () => {
    const { token } = await registerAndLogin(api, 'abort');
    const tree = await uploadTree(api);
    const rows = await api.db.file.count();

    const { body, contentType } = multipart([{ field: 'file', filename: 'partial.txt', data: text(MAX_FILE - 100) }]);
    const url = new URL(api.url);
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/api/files/upload',
      headers: { authorization: `bearer ${token}`, 'content-type': contentType, 'content-length': String(body.length) },
    });
    req.on('error', () => {});
    // Everything but the last 5 000 bytes (and the closing boundary).
    req.write(body.subarray(0, body.length - 5000));

    // Wait until the server is visibly writing the file, then vanish.
    const started = await poll(async () => (await uploadTree(api)).some((path) => /(^|\/)\.tmp-/.test(path)));
    assert.ok(started, 'the server began streaming into a temporary file');
    req.destroy();

    const clean = await poll(async () => JSON.stringify(await uploadTree(api)) === JSON.stringify(tree));
    assert.ok(clean, `leftovers: ${JSON.stringify((await uploadTree(api)).filter((p) => !tree.includes(p)))}`);
    await sleep(100);
    assert.equal(await api.db.file.count(), rows);
  });

  it('a client that hangs up before the sniffing point leaves nothing either', async () => {
    const { token } = await registerAndLogin(api, 'abort2');
    const tree = await uploadTree(api);
    const { body, contentType } = multipart([{ field: 'file', filename: 'p.png', data: text(50_000) }]);
    const url = new URL(api.url);
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/api/files/upload',
      headers: { authorization: `bearer ${token}`, 'content-type': contentType, 'content-length': String(body.length + 10) },
    });
    req.on('error', () => {});
    req.write(body.subarray(0, 20_000));
    await sleep(100);
    req.destroy();
    await sleep(200);
    assert.deepEqual(await uploadTree(api), tree);
    // The API is still healthy afterwards.
    assert.equal((await uploadFile(api, token, 'after.txt', 'ok')).json?.code, 0);
  });
});

async function poll(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return check();
}
