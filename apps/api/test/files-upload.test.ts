import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAndLogin } from './support/accounts.ts';
import {
  download,
  ELF_BYTES,
  EXE_BYTES,
  PDF_BYTES,
  pngBytes,
  raw,
  upload,
  uploadFile,
  uploadTree,
  ZIP_BYTES,
} from './files-support.ts';

describe('files: upload and download', () => {
  let api: TestApi;
  let alice: Awaited<ReturnType<typeof registerAndLogin>>;
  let bob: Awaited<ReturnType<typeof registerAndLogin>>;
  before(async () => {
    api = await startApi();
    alice = await registerAndLogin(api, 'fa');
    bob = await registerAndLogin(api, 'fb');
  });
  after(async () => {
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  async function roundTrip(name: string, bytes: Buffer, query = '') {
    const answer = await uploadFile(api, alice.token, name, bytes, query);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json?.code, 0);
    const data = answer.json!.data;
    const got = await download(api, alice.token, data.file_name);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, bytes, `${name}: downloaded bytes differ`);
    return { data, got };
  }

  it('a PNG comes back byte for byte, with the answer the contract lists', async () => {
    const png = pngBytes(16, 16);
    const { data, got } = await roundTrip('photo.png', png, `?target_id=${bob.user.user_id}`);
    assert.deepEqual(Object.keys(data).sort(), [
      'created_at',
      'file_name',
      'file_size',
      'file_type',
      'original_name',
      'path',
      'target_id',
      'user_id',
    ]);
    assert.equal(data.user_id, alice.user.user_id);
    assert.equal(data.target_id, bob.user.user_id);
    assert.equal(data.original_name, 'photo.png');
    assert.equal(data.file_size, png.length);
    assert.equal(data.file_type, 'png');
    assert.match(data.file_name, /^\d{13}-[0-9a-f]{16}\.png$/);
    assert.equal(data.path, `api/files/download?file=${data.file_name}`);
    assert.equal(got.headers['content-type'], 'image/png');
    assert.equal(got.headers['content-length'], String(png.length));
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    assert.equal(got.headers['accept-ranges'], 'bytes');
    assert.match(String(got.headers['content-disposition']), /^attachment; filename="photo\.png"$/);

    const row = await api.db.file.findUnique({ where: { fileName: data.file_name } });
    assert.ok(row);
    assert.equal(row.ownerId, alice.user.user_id);
    assert.equal(row.targetId, bob.user.user_id);
    assert.equal(row.mimeType, 'image/png');
    assert.match(row.storageKey, /^files\/\d{4}\/\d{2}\/[0-9a-f]{32}$/);
    assert.ok((await uploadTree(api)).includes(row.storageKey), 'stored under its server-made key');
  });

  it('a PDF and a text file come back the same, text with a UTF-8 charset', async () => {
    const { data: pdf, got: pdfGot } = await roundTrip('report.pdf', PDF_BYTES);
    assert.equal(pdf.file_type, 'pdf');
    assert.equal(pdf.target_id, null, 'no target_id is a group file');
    assert.equal(pdfGot.headers['content-type'], 'application/pdf');

    const text = Buffer.from('第一行 line one\r\nsecond, line\n');
    const { data: txt, got: txtGot } = await roundTrip('notes.txt', text);
    assert.equal(txt.file_type, 'txt');
    assert.equal(txtGot.headers['content-type'], 'text/plain; charset=utf-8');

    const { data: csv } = await roundTrip('table.CSV', Buffer.from('a,b\n1,2\n'));
    assert.equal(csv.file_type, 'csv');
    const { data: md } = await roundTrip('README.md', Buffer.from('# Title\n'));
    assert.equal(md.file_type, 'md');
    const { data: empty } = await roundTrip('empty.txt', Buffer.alloc(0));
    assert.equal(empty.file_size, 0);
  });

  it('a Chinese name comes back in Content-Disposition as filename*=UTF-8', async () => {
    const { data, got } = await roundTrip('季度报告 v2.pdf', PDF_BYTES);
    assert.equal(data.original_name, '季度报告 v2.pdf');
    const disposition = String(got.headers['content-disposition']);
    assert.match(disposition, /^attachment; /);
    assert.ok(disposition.includes(`filename*=UTF-8''${encodeURIComponent('季度报告 v2.pdf')}`), disposition);
    assert.match(disposition, /filename="[\x20-\x7e]*"/, 'an ASCII fallback for old clients');
  });

  it('the same name twice gives two files, neither overwriting the other', async () => {
    const first = await roundTrip('same.txt', Buffer.from('first'));
    const second = await roundTrip('same.txt', Buffer.from('second'));
    assert.notEqual(first.data.file_name, second.data.file_name);
    assert.deepEqual((await download(api, alice.token, first.data.file_name)).body, Buffer.from('first'));
    assert.deepEqual((await download(api, alice.token, second.data.file_name)).body, Buffer.from('second'));
  });

  it('a name without an extension works: text as txt, an image by its bytes', async () => {
    const text = await roundTrip('Makefile', Buffer.from('all:\n\techo hi\n'));
    assert.equal(text.data.file_type, 'txt');
    assert.equal(text.data.original_name, 'Makefile');
    assert.match(text.data.file_name, /\.txt$/);
    const image = await roundTrip('screenshot', pngBytes(4, 4));
    assert.equal(image.data.file_type, 'png');
    const binary = await uploadFile(api, alice.token, 'blob', Buffer.from([1, 2, 0, 3, 4]));
    assert.equal(binary.status, 415, 'unknown binary without an extension');
  });

  it('path parts and control characters in the name are metadata only', async () => {
    const { data } = await roundTrip('C:\\fakepath\\..\\evil\u202e.txt', Buffer.from('x'));
    assert.equal(data.original_name, 'evil.txt');
    assert.match(data.file_name, /^\d{13}-[0-9a-f]{16}\.txt$/);
  });

  it('refuses types outside the allow-list and extensions that lie about the bytes', async () => {
    const before = await uploadTree(api);
    const rowsBefore = await api.db.file.count();
    const cases: Array<[string, Buffer, RegExp?]> = [
      ['program.exe', EXE_BYTES],
      ['innocent.png', ELF_BYTES, /elf/],
      ['innocent.png', EXE_BYTES, /exe/],
      ['photo.png', ZIP_BYTES, /zip/],
      ['paper.pdf', ZIP_BYTES, /zip/],
      ['photo.jpg', pngBytes(2, 2), /png/],
      ['page.html', Buffer.from('<script>alert(1)</script>')],
      ['image.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')],
      ['notes.txt', pngBytes(2, 2), /png/],
      ['notes.txt', Buffer.from('text\0with nul')],
      ['data.csv', ELF_BYTES],
      ['fake.pdf', Buffer.from('just text, no magic')],
    ];
    for (const [name, bytes, message] of cases) {
      const answer = await uploadFile(api, alice.token, name, bytes);
      assert.equal(answer.status, 415, `${name}: ${JSON.stringify(answer.json)}`);
      assert.equal(answer.json?.code, 1008);
      if (message) assert.match(answer.json!.msg, message);
    }
    assert.deepEqual(await uploadTree(api), before, 'refused uploads leave no file');
    assert.equal(await api.db.file.count(), rowsBefore, 'and no row');
  });

  it('accepts a .jpeg whose bytes are JPEG', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(64, 1)]);
    const { data, got } = await roundTrip('holiday.JPEG', jpeg);
    assert.equal(data.file_type, 'jpeg');
    assert.equal(got.headers['content-type'], 'image/jpeg');
  });

  it('checks the form: exactly one file, in the field "file"', async () => {
    const before = await uploadTree(api);
    const none = await upload(api, alice.token, [{ field: 'note', data: 'hello' }]);
    assert.equal(none.status, 400);
    assert.equal(none.json?.code, 1002);

    const two = await upload(api, alice.token, [
      { field: 'file', filename: 'a.txt', data: 'a'.repeat(70_000) },
      { field: 'file', filename: 'b.txt', data: 'b' },
    ]);
    assert.equal(two.status, 400);
    assert.equal(two.json?.code, 1002);

    const wrongField = await upload(api, alice.token, [{ field: 'upload', filename: 'a.txt', data: 'a' }]);
    assert.equal(wrongField.json?.code, 1002);

    const fieldAsText = await upload(api, alice.token, [{ field: 'file', data: 'not a file part' }]);
    assert.equal(fieldAsText.json?.code, 1002);

    const truncated = await raw(api, 'POST', '/api/files/upload', {
      token: alice.token,
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: Buffer.from('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc'),
    });
    assert.equal(truncated.json?.code, 1002);

    const noBoundary = await raw(api, 'POST', '/api/files/upload', {
      token: alice.token,
      headers: { 'content-type': 'multipart/form-data' },
      body: Buffer.from('x'),
    });
    assert.equal(noBoundary.status, 415);

    assert.deepEqual(await uploadTree(api), before, 'no file left by any of them');
  });

  it('refuses bodies that are not multipart with 415', async () => {
    const json = await call(api.url, '/api/files/upload', { token: alice.token, body: { file: 'x' } });
    assert.equal(json.status, 415);
    assert.equal(json.code, 1008);
    const text = await raw(api, 'POST', '/api/files/upload', {
      token: alice.token,
      headers: { 'content-type': 'application/octet-stream' },
      body: pngBytes(2, 2),
    });
    assert.equal(text.status, 415);
  });

  it('checks target_id: unknown 404, malformed or yourself 1002', async () => {
    const unknown = await uploadFile(api, alice.token, 'a.txt', 'a', '?target_id=0000000000');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json?.code, 1005);
    for (const bad of ['xyz', '12345', 'ABCDEFGHIJ', '0123456789a', alice.user.user_id]) {
      const answer = await uploadFile(api, alice.token, 'a.txt', 'a', `?target_id=${bad}`);
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.json?.code, 1002, bad);
    }
    const repeated = await uploadFile(api, alice.token, 'a.txt', 'a', `?target_id=${bob.user.user_id}&target_id=${bob.user.user_id}`);
    assert.equal(repeated.json?.code, 1002);
    const upper = await uploadFile(api, alice.token, 'a.txt', 'a', `?target_id=${bob.user.user_id.toUpperCase()}`);
    assert.equal(upper.json?.code, 0, 'user ids are case-insensitive hex');
    assert.equal(upper.json?.data.target_id, bob.user.user_id);
  });

  it('requires a token for upload, download and the list', async () => {
    const up = await uploadFile(api, undefined, 'a.txt', 'a');
    assert.equal(up.status, 401);
    assert.equal(up.json?.code, 1003);
    const { json } = await uploadFile(api, alice.token, 'a.txt', 'a');
    const down = await download(api, undefined, json!.data.file_name);
    assert.equal(down.status, 401);
    assert.equal((await call(api.url, '/api/files')).status, 401);
    const bad = await download(api, 'not-a-token', json!.data.file_name);
    assert.equal(bad.status, 401);
  });

  it('download needs file= once; an unknown name is 404', async () => {
    assert.equal((await raw(api, 'GET', '/api/files/download', { token: alice.token })).json?.code, 1002);
    assert.equal((await raw(api, 'GET', '/api/files/download?file=a&file=b', { token: alice.token })).json?.code, 1002);
    const unknown = await download(api, alice.token, '1700000000000-0000000000000000.png');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json?.code, 1005);
  });
});

describe('files: the list of my files', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(async () => {
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('shows files I sent and received, paged and sorted by an allow-listed key', async () => {
    const a = await registerAndLogin(api, 'la');
    const b = await registerAndLogin(api, 'lb');
    const c = await registerAndLogin(api, 'lc');
    const sent = [];
    for (const [i, size] of [30, 10, 20].entries()) {
      const answer = await uploadFile(api, a.token, `a${i}.txt`, 'x'.repeat(size), `?target_id=${b.user.user_id}`);
      sent.push(answer.json!.data);
    }
    const group = (await uploadFile(api, a.token, 'group.txt', 'g'.repeat(5))).json!.data;
    const fromB = (await uploadFile(api, b.token, 'to-a.txt', 'y'.repeat(40), `?target_id=${a.user.user_id}`)).json!.data;
    await uploadFile(api, c.token, 'c-group.txt', 'z');

    const mine = await call(api.url, '/api/files?limit=10', { token: a.token });
    assert.equal(mine.code, 0);
    assert.equal(mine.data.count, 5);
    assert.deepEqual(
      mine.data.list.map((f: { file_name: string }) => f.file_name),
      [fromB, group, ...sent.reverse()].map((f) => f.file_name),
      'newest first by default',
    );
    assert.deepEqual(mine.data.list[0], fromB);

    const bySize = await call(api.url, '/api/files?sort=file_size%20asc&limit=2&page=2', { token: a.token });
    assert.equal(bySize.data.count, 5);
    assert.deepEqual(bySize.data.list.map((f: { file_size: number }) => f.file_size), [20, 30]);
    const desc = await call(api.url, '/api/files?sort=FILE_SIZE%20DESC&limit=1', { token: a.token });
    assert.equal(desc.data.list[0].file_size, 40);

    const bList = await call(api.url, '/api/files', { token: b.token });
    assert.equal(bList.data.count, 4, 'b: three received, one sent; not a group file of someone else');
    const cList = await call(api.url, '/api/files', { token: c.token });
    assert.equal(cList.data.count, 1);

    for (const bad of ['sort=size', 'sort=created_at%20sideways', 'sort=storage_key', 'limit=0', 'limit=101', 'page=0', 'limit=x']) {
      const answer = await call(api.url, `/api/files?${bad}`, { token: a.token });
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.code, 1002, bad);
    }
  });
});
