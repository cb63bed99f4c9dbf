import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMessageWriter, type MessageWriter } from '@im/db';
import { GROUP_CONVERSATION, MsgType } from '@im/protocol';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAndLogin } from './support/accounts.ts';

const FRAME_KEYS = ['id', 'user_id', 'username', 'avatar', 'msg_type', 'content', 'date', 'online_count'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

describe('GET /api/chat_groupList', () => {
  let api: TestApi;
  let writer: MessageWriter;
  let token: string;
  const users: Array<{ user_id: string; user_name: string; avatar: string }> = [];
  /** Stored group message ids, oldest first. */
  const ids: number[] = [];
  let fileMessageId: number;
  let taggedMessageId: number;

  before(async () => {
    api = await startApi();
    writer = createMessageWriter({ url: api.config.mysql.url, connectionLimit: 2 });
    // Labels sort alice < bob < carol, which the username sorts rely on.
    for (const label of ['carol', 'alice', 'bob']) {
      const session = await registerAndLogin(api, label);
      users.push(session.user);
      token ??= session.token;
    }
    for (let i = 1; i <= 12; i++) {
      const sender = users[i % 3]!;
      const message = await writer.write({
        conversation: GROUP_CONVERSATION,
        senderId: sender.user_id,
        targetId: null,
        msgType: MsgType.Text,
        content: `g${i}`,
        clientMsgId: i === 7 ? 'client-7' : null,
        fileId: null,
        onlineCount: i,
      });
      ids.push(Number(message.id));
      if (i === 7) taggedMessageId = Number(message.id);
    }
    const file = await api.db.file.create({
      data: {
        fileName: '1700000000000-report v1 #2.pdf',
        originalName: 'report v1 #2.pdf',
        ownerId: users[0]!.user_id,
        targetId: null,
        size: 123_456n,
        mimeType: 'application/pdf',
        fileType: 'pdf',
        storageKey: 'group/1700000000000-report v1 #2.pdf',
      },
    });
    const message = await writer.write({
      conversation: GROUP_CONVERSATION,
      senderId: users[0]!.user_id,
      targetId: null,
      msgType: MsgType.File,
      content: 'report v1 #2.pdf',
      clientMsgId: null,
      fileId: file.id,
      onlineCount: 3,
    });
    fileMessageId = Number(message.id);
    ids.push(fileMessageId);
  });
  after(async () => {
    await writer.close();
    await api.close();
  });

  function list(query: Record<string, string> = {}, withToken = token) {
    const search = new URLSearchParams(query).toString();
    return call(api.url, `/api/chat_groupList${search ? `?${search}` : ''}`, { token: withToken });
  }

  async function listOk(query: Record<string, string> = {}) {
    const answer = await list(query);
    assert.deepEqual([answer.status, answer.code], [200, 0], `${JSON.stringify(query)} → ${answer.msg}`);
    return answer.data as { count: number; list: any[] };
  }

  it('defaults to 10 messages, newest first, with count = every group message', async () => {
    const data = await listOk();
    assert.equal(data.count, 13);
    assert.deepEqual(
      data.list.map((m) => m.id),
      [...ids].reverse().slice(0, 10),
    );
  });

  it('page 2 continues where page 1 stopped', async () => {
    const data = await listOk({ page: '2' });
    assert.equal(data.count, 13);
    assert.deepEqual(
      data.list.map((m) => m.id),
      [...ids].reverse().slice(10),
    );
    const small = await listOk({ limit: '4', page: '3' });
    assert.deepEqual(
      small.list.map((m) => m.id),
      [...ids].reverse().slice(8, 12),
    );
  });

  it('created_at asc is oldest first; sort is case- and space-tolerant', async () => {
    for (const sort of ['created_at asc', 'CREATED_AT   ASC', ' created_at ']) {
      const data = await listOk({ sort, limit: '100' });
      assert.deepEqual(
        data.list.map((m) => m.id),
        ids,
        sort,
      );
    }
  });

  it('username filters by sender and count is the filtered total', async () => {
    const bob = users.find((u) => u.user_name.startsWith('bob'))!;
    const data = await listOk({ username: bob.user_name, limit: '100' });
    assert.equal(data.count, 4);
    assert.equal(data.list.length, 4);
    assert.ok(data.list.every((m) => m.user_id === bob.user_id && m.username === bob.user_name));
    const ordered = data.list.map((m) => m.id);
    assert.deepEqual(ordered, [...ordered].sort((a, b) => b - a));
  });

  it('an empty or unknown username shows everyone', async () => {
    for (const username of ['', 'nobody-by-this-name', '   ']) {
      const data = await listOk({ username, limit: '100' });
      assert.equal(data.count, 13, JSON.stringify(username));
      assert.equal(data.list.length, 13);
    }
  });

  it('sort by username asc/desc orders by sender name, ties by id, desc exactly reversed', async () => {
    const asc = await listOk({ sort: 'username asc', limit: '100' });
    const expected = [...asc.list].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : a.id - b.id));
    assert.deepEqual(
      asc.list.map((m) => m.id),
      expected.map((m) => m.id),
    );
    assert.equal(asc.list[0].username.startsWith('alice'), true);
    assert.equal(asc.list.at(-1).username.startsWith('carol'), true);
    const desc = await listOk({ sort: 'Username  DESC', limit: '100' });
    assert.deepEqual(
      desc.list.map((m) => m.id),
      asc.list.map((m) => m.id).reverse(),
    );
    const bare = await listOk({ sort: 'username', limit: '100' });
    assert.deepEqual(
      bare.list.map((m) => m.id),
      asc.list.map((m) => m.id),
    );
  });

  it('refuses sort values outside the allow-list, and limit/page out of bounds, with 1002', async () => {
    const bad: Array<Record<string, string>> = [
      { sort: 'id desc' },
      { sort: 'content asc' },
      { sort: 'created_at desc; DROP TABLE users' },
      { sort: 'created_at desc, (SELECT SLEEP(5))' },
      { sort: "username' OR '1'='1" },
      { sort: 'username sideways' },
      { sort: 'sender_id asc' },
      { sort: '' },
      { limit: '0' },
      { limit: '101' },
      { limit: '-1' },
      { limit: 'ten' },
      { limit: '2.5' },
      { page: '0' },
      { page: '100001' },
      { page: 'x' },
    ];
    for (const query of bad) {
      const answer = await list(query);
      assert.deepEqual([answer.status, answer.code], [400, 1002], JSON.stringify(query));
      assert.ok(Array.isArray(answer.data.errors), 'the problems are listed');
    }
    for (const search of ['limit=5&limit=6', 'sort=username&sort=created_at', 'username=a&username=b']) {
      const answer = await call(api.url, `/api/chat_groupList?${search}`, { token });
      assert.deepEqual([answer.status, answer.code], [400, 1002], `repeated: ${search}`);
    }
    assert.equal(await api.db.user.count(), 3, 'nothing was dropped');
    await listOk({ limit: '100', page: '100000' });
  });

  it('after_id returns exactly the later messages, oldest first; count stays the total', async () => {
    const data = await listOk({ after_id: String(ids[4]) });
    assert.equal(data.count, 13);
    assert.deepEqual(
      data.list.map((m) => m.id),
      ids.slice(5, 13),
    );
    const limited = await listOk({ after_id: String(ids[4]), limit: '3', sort: 'created_at asc', page: '1' });
    assert.deepEqual(
      limited.list.map((m) => m.id),
      ids.slice(5, 8),
    );
    const none = await listOk({ after_id: String(ids.at(-1)) });
    assert.deepEqual(none.list, []);
    const all = await listOk({ after_id: '0', limit: '100' });
    assert.deepEqual(
      all.list.map((m) => m.id),
      ids,
    );
  });

  it('before_id returns the earlier messages, newest first', async () => {
    const data = await listOk({ before_id: String(ids[6]), limit: '4' });
    assert.equal(data.count, 13);
    assert.deepEqual(
      data.list.map((m) => m.id),
      [ids[5], ids[4], ids[3], ids[2]],
    );
    const rest = await listOk({ before_id: String(ids[2]), sort: 'created_at desc' });
    assert.deepEqual(
      rest.list.map((m) => m.id),
      [ids[1], ids[0]],
    );
  });

  it('cursors combine with the username filter', async () => {
    const alice = users.find((u) => u.user_name.startsWith('alice'))!;
    const data = await listOk({ username: alice.user_name, after_id: String(ids[0]) });
    assert.equal(data.count, 4);
    assert.ok(data.list.every((m) => m.user_id === alice.user_id));
    assert.deepEqual(
      data.list.map((m) => m.id),
      [...data.list.map((m) => m.id)].sort((a, b) => a - b),
    );
  });

  it('refuses contradictory or malformed cursors with 1002', async () => {
    const bad: Array<Record<string, string>> = [
      { after_id: '1', before_id: '5' },
      { after_id: '1', sort: 'created_at desc' },
      { after_id: '1', sort: 'username asc' },
      { before_id: '5', sort: 'created_at asc' },
      { after_id: '1', page: '2' },
      { before_id: '5', page: '3' },
      { after_id: 'abc' },
      { after_id: '-1' },
      { before_id: '1e3' },
      { before_id: '0x10' },
      { after_id: '' },
      { after_id: '99999999999999999999999' },
    ];
    for (const query of bad) {
      const answer = await list(query);
      assert.deepEqual([answer.status, answer.code], [400, 1002], JSON.stringify(query));
    }
  });

  it('items have exactly the live frame keys, ISO 8601 dates and numeric ids', async () => {
    const data = await listOk({ limit: '100', sort: 'created_at asc' });
    for (const item of data.list) {
      const keys = [...FRAME_KEYS];
      if (item.id === taggedMessageId) keys.push('client_msg_id');
      if (item.id === fileMessageId) keys.push('file');
      assert.deepEqual(Object.keys(item).sort(), keys.sort(), `message ${item.id}`);
      assert.equal(typeof item.id, 'number');
      assert.ok(Number.isInteger(item.id));
      assert.match(item.date, ISO_8601);
      assert.ok(!Number.isNaN(Date.parse(item.date)));
    }
    const first = data.list[0];
    const sender = users[1]!;
    assert.deepEqual(
      { ...first, date: undefined },
      {
        id: ids[0],
        user_id: sender.user_id,
        username: sender.user_name,
        avatar: sender.avatar,
        msg_type: 4,
        content: 'g1',
        date: undefined,
        online_count: 1,
      },
    );
    assert.equal(data.list.find((m) => m.id === taggedMessageId).client_msg_id, 'client-7');
  });

  it('a file message carries the file info', async () => {
    const data = await listOk({ limit: '1' });
    const [message] = data.list;
    assert.equal(message.id, fileMessageId);
    assert.equal(message.msg_type, 5);
    assert.deepEqual(message.file, {
      name: '1700000000000-report v1 #2.pdf',
      original_name: 'report v1 #2.pdf',
      size: 123456,
      type: 'pdf',
      mime_type: 'application/pdf',
      path: `api/files/download?file=${encodeURIComponent('1700000000000-report v1 #2.pdf')}`,
    });
    assert.equal(message.file.path, 'api/files/download?file=1700000000000-report%20v1%20%232.pdf');
  });

  it('requires a token: none or a bad one → 401 / 1003', async () => {
    const missing = await list({}, '');
    assert.deepEqual([missing.status, missing.code], [401, 1003]);
    const bad = await list({}, 'not.a.jwt');
    assert.deepEqual([bad.status, bad.code], [401, 1003]);
  });

  it('an empty room answers count 0 and an empty list', async () => {
    const empty = await startApi();
    try {
      const { token: other } = await registerAndLogin(empty, 'lonely');
      const answer = await call(empty.url, '/api/chat_groupList', { token: other });
      assert.equal(answer.code, 0);
      assert.deepEqual(answer.data, { count: 0, list: [] });
    } finally {
      await empty.close();
    }
  });
});
