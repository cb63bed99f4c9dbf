import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startApi, type TestApi } from './support/start-api.ts';
import { registerAndLogin } from './support/accounts.ts';
import { download, raw, uploadFile } from './files-support.ts';

describe('files: ranges and download headers', () => {
  let api: TestApi;
  let token: string;
  let fileName: string;
  const bytes = randomBytes(5000);
  // A zip's magic bytes, then noise: an allowed binary type whose every byte is checkable.
  bytes.set([0x50, 0x4b, 0x03, 0x04], 0);

  before(async () => {
    api = await startApi();
    ({ token } = await registerAndLogin(api, 'rg'));
    const answer = await uploadFile(api, token, 'archive.zip', bytes);
    assert.equal(answer.json?.code, 0, answer.json?.msg);
    fileName = answer.json!.data.file_name;
  });
  after(async () => {
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('answers a single range with 206 and the exact slice', async () => {
    const got = await download(api, token, fileName, { range: 'bytes=100-199' });
    assert.equal(got.status, 206);
    assert.equal(got.headers['content-range'], `bytes 100-199/${bytes.length}`);
    assert.equal(got.headers['content-length'], '100');
    assert.equal(got.headers['content-type'], 'application/zip');
    assert.deepEqual(got.body, bytes.subarray(100, 200));
  });

  it('answers a suffix range with the last bytes', async () => {
    const got = await download(api, token, fileName, { range: 'bytes=-10' });
    assert.equal(got.status, 206);
    assert.equal(got.headers['content-range'], `bytes ${bytes.length - 10}-${bytes.length - 1}/${bytes.length}`);
    assert.deepEqual(got.body, bytes.subarray(-10));
  });

  it('answers an open range to the end, and clamps an end past it', async () => {
    const open = await download(api, token, fileName, { range: 'bytes=4990-' });
    assert.deepEqual(open.body, bytes.subarray(4990));
    const past = await download(api, token, fileName, { range: 'bytes=4000-999999' });
    assert.equal(past.headers['content-range'], `bytes 4000-4999/${bytes.length}`);
    assert.deepEqual(past.body, bytes.subarray(4000));
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const got = await download(api, token, fileName, { range: `bytes=${bytes.length}-` });
    assert.equal(got.status, 416);
    assert.equal(got.headers['content-range'], `bytes */${bytes.length}`);
    assert.equal(got.json?.code, 1002);
  });

  it('answers several ranges, malformed ranges and a stale If-Range with the whole file', async () => {
    const cases: Array<Record<string, string>> = [
      { range: 'bytes=0-1,10-11' },
      { range: 'bytes=abc' },
      { range: 'items=0-1' },
      { range: 'bytes=0-9', 'if-range': '"something-else"' },
    ];
    for (const headers of cases) {
      const got = await download(api, token, fileName, headers);
      assert.equal(got.status, 200, JSON.stringify(headers));
      assert.deepEqual(got.body, bytes);
    }
    const full = await download(api, token, fileName);
    const matching = await download(api, token, fileName, { range: 'bytes=0-9', 'if-range': String(full.headers.etag) });
    assert.equal(matching.status, 206);
  });

  it('sends the safety headers and revalidates by ETag', async () => {
    const got = await download(api, token, fileName);
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    assert.equal(got.headers['accept-ranges'], 'bytes');
    assert.match(String(got.headers['content-disposition']), /^attachment;/);
    assert.match(String(got.headers['content-security-policy']), /sandbox/);
    assert.match(String(got.headers['cache-control']), /private/);
    assert.equal(got.headers['content-length'], String(bytes.length));
    const again = await download(api, token, fileName, { 'if-none-match': String(got.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await raw(api, 'HEAD', `/api/files/download?file=${fileName}`, { token });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(bytes.length));
    assert.equal(head.body.length, 0);
  });
});

describe('files: who may download', () => {
  let api: TestApi;
  let owner: Awaited<ReturnType<typeof registerAndLogin>>;
  let target: Awaited<ReturnType<typeof registerAndLogin>>;
  let stranger: Awaited<ReturnType<typeof registerAndLogin>>;
  let privateName: string;
  let groupName: string;
  before(async () => {
    api = await startApi();
    owner = await registerAndLogin(api, 'po');
    target = await registerAndLogin(api, 'pt');
    stranger = await registerAndLogin(api, 'ps');
    privateName = (await uploadFile(api, owner.token, 'secret.txt', 'for target only', `?target_id=${target.user.user_id}`)).json!.data.file_name;
    groupName = (await uploadFile(api, owner.token, 'everyone.txt', 'for the room')).json!.data.file_name;
  });
  after(async () => {
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('the uploader and the target read a private file', async () => {
    for (const who of [owner, target]) {
      const got = await download(api, who.token, privateName);
      assert.equal(got.status, 200);
      assert.equal(got.body.toString(), 'for target only');
    }
  });

  it('a third user gets exactly the answer of a name that does not exist', async () => {
    const forbidden = await download(api, stranger.token, privateName);
    const missing = await download(api, stranger.token, '1700000000000-0123456789abcdef.txt');
    assert.equal(forbidden.status, 404);
    assert.equal(forbidden.json?.code, 1005);
    assert.equal(forbidden.status, missing.status);
    assert.deepEqual(forbidden.body, missing.body);
    const rangeProbe = await download(api, stranger.token, privateName, { range: 'bytes=0-0' });
    assert.deepEqual(rangeProbe.body, missing.body);
  });

  it('anyone signed in reads a group file', async () => {
    for (const who of [owner, target, stranger]) {
      const got = await download(api, who.token, groupName);
      assert.equal(got.status, 200);
      assert.equal(got.body.toString(), 'for the room');
    }
  });

  it('without a token nobody reads anything', async () => {
    for (const name of [privateName, groupName]) {
      const got = await download(api, undefined, name);
      assert.equal(got.status, 401);
      assert.equal(got.json?.code, 1003);
    }
  });

  it('active content is never served as such', async () => {
    // Rows as another writer might leave them: the server decides the type it sends.
    const key = 'files/2000/01/00000000000000000000000000000001';
    await api.db.file.create({
      data: {
        fileName: '1700000000000-00000000000000aa.html',
        originalName: 'page.html',
        ownerId: owner.user.user_id,
        size: 0n,
        mimeType: 'text/html',
        fileType: 'html',
        storageKey: key,
      },
    });
    const { createLocalStorage } = await import('@im/storage');
    await createLocalStorage(api.uploadRoot).put(key, Buffer.from('<script>alert(1)</script>'));
    const got = await download(api, owner.token, '1700000000000-00000000000000aa.html');
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    assert.match(String(got.headers['content-disposition']), /^attachment/);
  });
});
