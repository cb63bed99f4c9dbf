import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFileLinks } from '@im/auth';
import { downloadPath } from '@im/db';
import { MsgType, privateConversation } from '@im/protocol';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAll } from './support/accounts.ts';
import { MessageStore } from './support/messages.ts';
import { download, pngBytes, raw, uploadFile } from './files-support.ts';

interface Session {
  token: string;
  user: { user_id: string };
}

const PART1_KEYS = ['user_id', 'target_id', 'path', 'file_name', 'original_name', 'file_size', 'file_type', 'created_at'];

describe('files in conversations, and signed links', () => {
  let api: TestApi;
  let store: MessageStore;
  let ann: Session;
  let bob: Session;
  let eve: Session;
  let room: { room_id: string; conversation: string };
  const png = pngBytes(8, 8);

  const uploadTo = async (who: Session, conversation: string, name = 'pic.png', bytes = png) =>
    uploadFile(api, who.token, name, bytes, `?conversation=${encodeURIComponent(conversation)}`);
  /** GET without any header, as `<img src>` would. */
  const fetchLink = (url: string, headers: Record<string, string> = {}) => raw(api, 'GET', `/${url}`, { headers });

  before(async () => {
    api = await startApi();
    store = new MessageStore(api.config.mysql.url, api.sql);
    [ann, bob, eve] = await registerAll(api, ['ann', 'bob', 'eve']);
    room = (await call(api.url, '/api/rooms', { token: ann.token, body: { name: 'files', member_ids: [bob.user.user_id] } })).data;
  });
  after(async () => {
    await store.close();
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('uploads for a room: the answer names the conversation and a link that needs no header', async () => {
    const answer = await uploadTo(bob, room.conversation);
    assert.equal(answer.json?.code, 0, answer.json?.msg);
    const file = answer.json!.data;
    assert.deepEqual(Object.keys(file), [...PART1_KEYS, 'conversation', 'url']);
    assert.deepEqual([file.target_id, file.conversation], [null, room.conversation]);
    assert.match(file.url, new RegExp(`^api/files/download\\?file=${file.file_name.replace('.', '\\.')}&expires=\\d+&sig=[A-Za-z0-9_-]{43}$`));

    const viaLink = await fetchLink(file.url);
    assert.equal(viaLink.status, 200);
    assert.deepEqual(viaLink.body, png);
    assert.match(String(viaLink.headers['cache-control']), /^private, max-age=\d+$/);

    // Members download with their token; everyone else, group files' rules notwithstanding, gets 404.
    assert.equal((await download(api, ann.token, file.file_name)).status, 200);
    assert.equal((await download(api, bob.token, file.file_name)).status, 200);
    const outsider = await download(api, eve.token, file.file_name);
    assert.deepEqual([outsider.status, outsider.json?.code], [404, 1005]);
    assert.equal((await download(api, undefined, file.file_name)).status, 401);

    // The room's file list entry says which room (Part 1 files never carry it).
    const mine = await call(api.url, '/api/files', { token: bob.token });
    const listed = mine.data.list.find((item: { file_name: string }) => item.file_name === file.file_name);
    assert.equal(listed.conversation, room.conversation);
  });

  it('stops serving a room file to a member once they are removed; the uploader keeps it', async () => {
    const file = (await uploadTo(bob, room.conversation, 'kept.png')).json!.data;
    const byAnn = (await uploadTo(ann, room.conversation, 'ann.png')).json!.data;
    const removed = await call(api.url, `/api/rooms/${room.room_id}/members/${bob.user.user_id}`, { method: 'DELETE', token: ann.token });
    assert.equal(removed.code, 0, removed.msg);
    assert.equal((await download(api, bob.token, byAnn.file_name)).status, 404);
    assert.equal((await download(api, bob.token, file.file_name)).status, 200, 'their own upload');
    await call(api.url, `/api/rooms/${room.room_id}/members`, { token: ann.token, body: { user_ids: [bob.user.user_id] } });
  });

  it('uploads for group and private chats as Part 1 would store them, with a link', async () => {
    const group = (await uploadTo(ann, 'group')).json!.data;
    assert.deepEqual([group.target_id, group.conversation], [null, 'group']);
    assert.equal((await download(api, eve.token, group.file_name)).status, 200);

    const pair = privateConversation(ann.user.user_id, bob.user.user_id);
    const chat = (await uploadTo(ann, pair)).json!.data;
    assert.deepEqual([chat.target_id, chat.conversation], [bob.user.user_id, pair]);
    assert.equal((await download(api, bob.token, chat.file_name)).status, 200);
    assert.equal((await download(api, eve.token, chat.file_name)).status, 404);
    assert.equal((await fetchLink(chat.url)).status, 200);
  });

  it('keeps the Part 1 upload answer exactly as it was: no conversation, no url', async () => {
    const plain = (await uploadFile(api, ann.token, 'a.png', png)).json!.data;
    assert.deepEqual(Object.keys(plain), PART1_KEYS);
    const targeted = (await uploadFile(api, ann.token, 'b.png', png, `?target_id=${bob.user.user_id}`)).json!.data;
    assert.deepEqual(Object.keys(targeted), PART1_KEYS);
    const [row] = await api.sql.query('SELECT conversation FROM files WHERE file_name = ?', [targeted.file_name]);
    assert.equal(row.conversation, privateConversation(ann.user.user_id, bob.user.user_id));
  });

  it('refuses uploads for conversations the caller may not see, and bad conversation input', async () => {
    const cases: Array<[Session, string, number, number]> = [
      [eve, `?conversation=${encodeURIComponent(room.conversation)}`, 404, 1005],
      [eve, `?conversation=${encodeURIComponent(privateConversation(ann.user.user_id, bob.user.user_id))}`, 404, 1005],
      [ann, `?conversation=${encodeURIComponent(privateConversation(ann.user.user_id, '00000000ff'))}`, 404, 1005],
      [ann, '?conversation=r:000000000000', 404, 1005],
      [ann, '?conversation=nonsense', 400, 1002],
      [ann, `?conversation=group&target_id=${bob.user.user_id}`, 400, 1002],
      [ann, '?conversation=group&conversation=group', 400, 1002],
    ];
    for (const [who, query, status, code] of cases) {
      const answer = await uploadFile(api, who.token, 'x.png', png, query);
      assert.deepEqual([answer.status, answer.json?.code], [status, code], query);
    }
    const [count] = await api.sql.query("SELECT COUNT(*) AS n FROM files WHERE original_name = 'x.png'");
    assert.equal(Number(count.n), 0, 'no refused upload left a row');
  });

  it('refuses forged, altered and expired links without saying whether the file exists', async () => {
    const file = (await uploadTo(ann, room.conversation, 'secret.png')).json!.data;
    const url = new URL(`http://x/${file.url}`);
    const sig = url.searchParams.get('sig')!;
    const expires = url.searchParams.get('expires')!;
    const forged = (params: Record<string, string>) => `api/files/download?${new URLSearchParams({ file: file.file_name, expires, sig, ...params })}`;

    for (const link of [
      forged({ sig: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) }),
      forged({ expires: String(Number(expires) + 300) }),
      forged({ file: '1111111111111-0000000000000000.png' }),
      forged({ sig: '' }),
      `api/files/download?file=${file.file_name}&expires=${expires}`,
      `api/files/download?file=${file.file_name}&sig=${sig}`,
    ]) {
      const answer = await fetchLink(link);
      assert.deepEqual([answer.status, answer.json?.code], [404, 1005], link);
    }
    // A genuine link past its time says so (a link made with the server's key, dated an hour ago).
    const links = createFileLinks({ secret: api.config.jwt.secret, ttlSeconds: 60, downloadPath });
    const old = links.url(file.file_name, new Date(Date.now() - 3_600_000));
    const expired = await fetchLink(old);
    assert.deepEqual([expired.status, expired.json?.code], [403, 1004]);
    // Another server secret: not a link of ours at all.
    const foreign = createFileLinks({ secret: `${api.config.jwt.secret}-other`, ttlSeconds: 60, downloadPath });
    assert.equal((await fetchLink(foreign.url(file.file_name))).status, 404);
  });

  it('puts a signed url in every file of Part 2 history and the inbox, and only there', async () => {
    const pic = (await uploadTo(bob, room.conversation, 'shown.png')).json!.data;
    const [row] = await api.sql.query('SELECT id FROM files WHERE file_name = ?', [pic.file_name]);
    await store.send(room.conversation, bob.user.user_id, '', BigInt(row.id), MsgType.Image);

    const history = await call(api.url, `/api/conversations/${encodeURIComponent(room.conversation)}/messages?limit=1`, { token: ann.token });
    const frame = history.data.list[0];
    assert.deepEqual(Object.keys(frame.file), ['name', 'original_name', 'size', 'type', 'mime_type', 'path', 'url']);
    assert.equal((await fetchLink(frame.file.url)).status, 200);
    const inbox = await call(api.url, '/api/conversations', { token: ann.token });
    const item = inbox.data.list.find((entry: { conversation: string }) => entry.conversation === room.conversation);
    assert.equal(item.last_message.file.url, frame.file.url, 'one link per file and step, so browsers cache it');

    // Part 1's group history keeps its file objects as they were.
    const group = (await uploadTo(ann, 'group', 'g.png')).json!.data;
    const [groupRow] = await api.sql.query('SELECT id FROM files WHERE file_name = ?', [group.file_name]);
    await store.send('group', ann.user.user_id, '', BigInt(groupRow.id), MsgType.Image);
    const part1 = await call(api.url, '/api/chat_groupList?limit=1', { token: ann.token });
    assert.deepEqual(Object.keys(part1.data.list[0].file), ['name', 'original_name', 'size', 'type', 'mime_type', 'path']);
  });
});
