import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { startApi, type TestApi } from './support/start-api.ts';
import { registerAndLogin } from './support/accounts.ts';
import { raw, upload, uploadTree, type RawAnswer } from './files-support.ts';

/**
 * Hostile names in every parameter that could name a file. A canary file just outside the upload
 * root, and a private file inside it, must never come back.
 */
describe('files: path traversal is answered with 404/400 and reads nothing', () => {
  let api: TestApi;
  let token: string;
  let canaryPath: string;
  let canaryName: string;
  const canaryBytes = `CANARY-${randomBytes(16).toString('hex')}`;
  const answers: Array<{ what: string; answer: RawAnswer }> = [];
  let privateKey: string;
  let privateBytes: string;

  before(async () => {
    api = await startApi();
    ({ token } = await registerAndLogin(api, 'trav'));
    canaryName = `im-canary-${randomBytes(6).toString('hex')}`;
    canaryPath = join(dirname(api.uploadRoot), canaryName);
    await writeFile(canaryPath, canaryBytes);
    // A private file of someone else: its storage key must not be reachable by any path.
    const other = await registerAndLogin(api, 'trav2');
    const peer = await registerAndLogin(api, 'trav3');
    privateBytes = `PRIVATE-${randomBytes(16).toString('hex')}`;
    const stored = await upload(api, other.token, [{ field: 'file', filename: 'private.txt', data: privateBytes }], `?target_id=${peer.user.user_id}`);
    assert.equal(stored.json?.code, 0);
    privateKey = (await api.db.file.findUniqueOrThrow({ where: { fileName: stored.json!.data.file_name } })).storageKey;
  });
  after(async () => {
    await rm(canaryPath, { force: true });
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  const corpus = () => {
    const rootName = basename(api.uploadRoot);
    return [
      '../',
      '..%2F',
      '%2e%2e%2f',
      '%2E%2E%2F',
      '..\\',
      '..%5C',
      '....//',
      '%252e%252e%252f',
      '/etc/passwd',
      '%2Fetc%2Fpasswd',
      '../../../../../../../../etc/passwd',
      'C:\\Windows\\win.ini',
      'C:%5CWindows%5Cwin.ini',
      '%00',
      'x%00.png',
      '..%00/',
      `../${canaryName}`,
      `..%2F${canaryName}`,
      `%2e%2e%2f${canaryName}`,
      `..\\${canaryName}`,
      `..%5C${canaryName}`,
      `../../${basename(dirname(api.uploadRoot))}/${canaryName}`,
      `..%2F..%2F${rootName}%2F..%2F${canaryName}`,
      encodeURIComponent(canaryPath),
      encodeURIComponent(join(api.uploadRoot, privateKey)),
      encodeURIComponent(privateKey),
      encodeURIComponent(`../${privateKey}`),
      'a'.repeat(4000),
      `${'..%2F'.repeat(300)}${canaryName}`,
      '%ff%fe',
      '%',
    ];
  };

  const record = (what: string, answer: RawAnswer) => {
    answers.push({ what, answer });
    return answer;
  };

  it('download?file= answers 404 (or 1002) for every hostile name', async () => {
    for (const name of corpus()) {
      const answer = record(`file=${name}`, await raw(api, 'GET', `/api/files/download?file=${name}`, { token }));
      assert.ok([400, 404].includes(answer.status), `file=${name}: HTTP ${answer.status}`);
      assert.ok(answer.json && [1002, 1005].includes(answer.json.code), `file=${name}: ${answer.body.toString().slice(0, 100)}`);
    }
  });

  it('upload?target_id= answers 1002 or 404 and stores nothing', async () => {
    const tree = await uploadTree(api);
    const rows = await api.db.file.count();
    for (const value of corpus()) {
      const answer = record(
        `target_id=${value}`,
        await upload(api, token, [{ field: 'file', filename: 'a.txt', data: 'hello' }], `?target_id=${value}`),
      );
      assert.ok([400, 404].includes(answer.status), `target_id=${value}: HTTP ${answer.status}`);
      assert.ok(answer.json && [1002, 1005].includes(answer.json.code), `target_id=${value}`);
    }
    assert.deepEqual(await uploadTree(api), tree);
    assert.equal(await api.db.file.count(), rows);
  });

  it('the avatar route and anything else under /uploads answer 404 (or 400)', async () => {
    const paths = [
      ...corpus().map((name) => `/uploads/avatar/${name}`),
      ...corpus().map((name) => `/uploads/${name}`),
      `/uploads/${privateKey}`,
      `/uploads/avatar/../${privateKey}`,
      `/uploads/avatar/..%2F${privateKey.replace(/\//g, '%2F')}`,
      `/uploads/avatar/../../${canaryName}`,
      `/uploads/../${canaryName}`,
      `/${canaryName}`,
      `/uploads/avatar/`,
      `/uploads/avatar`,
      `/uploads/avatar/0123456789.PNG`,
      `/uploads/avatar/0123456789.png%00.txt`,
      `/uploads/avatar/0123456789.svg`,
    ];
    for (const path of paths) {
      const answer = record(path, await raw(api, 'GET', path));
      assert.ok([400, 404].includes(answer.status), `${path}: HTTP ${answer.status}`);
    }
  });

  it('no answer ever carried the canary or the private file', () => {
    assert.ok(answers.length > 100);
    for (const { what, answer } of answers) {
      const body = answer.body.toString('latin1');
      assert.ok(!body.includes(canaryBytes), `${what} returned the canary`);
      assert.ok(!body.includes(privateBytes), `${what} returned the private file`);
      assert.ok(!body.includes('root:'), `${what} returned /etc/passwd`);
    }
  });
});
