import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { registerAndLogin } from './support/accounts.ts';
import { JPEG_BYTES, PDF_BYTES, pngBytes, raw, multipart, uploadTree } from './files-support.ts';

const MAX_AVATAR = 20_000;

describe('avatar: upload and serve', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ overrides: { upload: { max_avatar_bytes: MAX_AVATAR } } });
  });
  after(async () => {
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  const uploadAvatar = (token: string | undefined, filename: string, data: Buffer | string) => {
    const { body, contentType } = multipart([{ field: 'file', filename, data }]);
    return raw(api, 'POST', '/api/users/avatar', { token, body, headers: { 'content-type': contentType } });
  };
  const avatarOf = async (userId: string) => (await api.db.user.findUniqueOrThrow({ where: { userId } })).avatar;

  it('a PNG replaces the avatar: new path served without a token, old file gone', async () => {
    const { token, user } = await registerAndLogin(api, 'av');
    const oldPath = `uploads/avatar/${user.user_id}.png`;
    assert.equal(user.avatar, oldPath);
    assert.equal((await raw(api, 'GET', `/${oldPath}`)).status, 200, 'the default avatar is served');

    const png = pngBytes(48, 48);
    const answer = await uploadAvatar(token, 'me.png', png);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json?.code, 0);
    const newPath = answer.json!.data.avatar as string;
    assert.match(newPath, new RegExp(`^uploads/avatar/${user.user_id}-[0-9a-f]{8}\\.png$`));
    assert.deepEqual(Object.keys(answer.json!.data).sort(), ['avatar', 'created_at', 'email', 'updated_at', 'user_id', 'user_name']);
    assert.equal(await avatarOf(user.user_id), newPath);

    const served = await raw(api, 'GET', `/${newPath}`);
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-type'], 'image/png');
    assert.equal(served.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(served.body, png);

    assert.equal((await raw(api, 'GET', `/${oldPath}`)).status, 404);
    assert.ok(!(await uploadTree(api)).includes(`avatar/${user.user_id}.png`), 'old file removed');
  });

  it('a second upload (JPEG) replaces the first and removes it', async () => {
    const { token, user } = await registerAndLogin(api, 'av2');
    const first = (await uploadAvatar(token, 'a.png', pngBytes(8, 8))).json!.data.avatar as string;
    const second = await uploadAvatar(token, 'b.jpeg', JPEG_BYTES);
    assert.equal(second.json?.code, 0);
    const path = second.json!.data.avatar as string;
    assert.match(path, /\.jpg$/);
    const served = await raw(api, 'GET', `/${path}`);
    assert.equal(served.headers['content-type'], 'image/jpeg');
    assert.deepEqual(served.body, JPEG_BYTES);
    assert.equal((await raw(api, 'GET', `/${first}`)).status, 404);
    const mine = (await uploadTree(api)).filter((p) => p.startsWith(`avatar/${user.user_id}`));
    assert.deepEqual(mine, [path.replace(/^uploads\//, '')]);
  });

  it('refuses a non-image with 415 and keeps the avatar', async () => {
    const { token, user } = await registerAndLogin(api, 'av3');
    const tree = await uploadTree(api);
    for (const [name, data] of [
      ['doc.pdf', PDF_BYTES],
      ['fake.png', Buffer.from('not an image at all')],
      ['vector.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ] as const) {
      const answer = await uploadAvatar(token, name, data);
      assert.equal(answer.status, 415, name);
      assert.equal(answer.json?.code, 1008, name);
    }
    assert.equal(await avatarOf(user.user_id), user.avatar);
    assert.deepEqual(await uploadTree(api), tree);
  });

  it('refuses an avatar over max_avatar_bytes with 413 and leaves nothing', async () => {
    const { token, user } = await registerAndLogin(api, 'av4');
    const tree = await uploadTree(api);
    const big = pngBytes(120, 120, true);
    assert.ok(big.length > MAX_AVATAR);
    const answer = await uploadAvatar(token, 'big.png', big);
    assert.equal(answer.status, 413);
    assert.equal(answer.json?.code, 1008);
    assert.equal(await avatarOf(user.user_id), user.avatar);
    assert.deepEqual(await uploadTree(api), tree);
  });

  it('requires a token and a multipart body', async () => {
    assert.equal((await uploadAvatar(undefined, 'a.png', pngBytes(4, 4))).status, 401);
    const { token } = await registerAndLogin(api, 'av5');
    const json = await raw(api, 'POST', '/api/users/avatar', {
      token,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{}'),
    });
    assert.equal(json.status, 415);
    const empty = multipart([{ field: 'other', data: 'x' }]);
    const missing = await raw(api, 'POST', '/api/users/avatar', { token, body: empty.body, headers: { 'content-type': empty.contentType } });
    assert.equal(missing.json?.code, 1002);
  });

  it('serves only names the server makes', async () => {
    const { user } = await registerAndLogin(api, 'av6');
    for (const name of [`${user.user_id}.jpg`, `${user.user_id}-1234.png`, `${user.user_id}-12345678.svg`, `${user.user_id}-12345678.png.txt`]) {
      assert.equal((await raw(api, 'GET', `/uploads/avatar/${name}`)).status, 404, name);
    }
  });
});
