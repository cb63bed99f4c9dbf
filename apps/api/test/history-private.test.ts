import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMessageWriter, type MessageWriter } from '@im/db';
import { GROUP_CONVERSATION, MsgType, privateConversation } from '@im/protocol';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAndLogin } from './support/accounts.ts';

const PRIVATE_FRAME_KEYS = [
  'id',
  'user_id',
  'username',
  'avatar',
  'msg_type',
  'content',
  'date',
  'online_count',
  'target_id',
  'target_name',
  'target_avatar',
];

interface Session {
  token: string;
  user: { user_id: string; user_name: string; avatar: string };
}

describe('GET /api/chat_privateList', () => {
  let api: TestApi;
  let writer: MessageWriter;
  let a: Session;
  let b: Session;
  let c: Session;
  /** Ids by conversation, oldest first. */
  const ab: number[] = [];
  const ac: number[] = [];
  const cb: number[] = [];

  async function send(from: Session, to: Session, content: string, into: number[]) {
    const message = await writer.write({
      conversation: privateConversation(from.user.user_id, to.user.user_id),
      senderId: from.user.user_id,
      targetId: to.user.user_id,
      msgType: MsgType.Text,
      content,
      clientMsgId: null,
      fileId: null,
      onlineCount: 1,
    });
    into.push(Number(message.id));
  }

  before(async () => {
    api = await startApi();
    writer = createMessageWriter({ url: api.config.mysql.url, connectionLimit: 2 });
    a = await registerAndLogin(api, 'anna');
    b = await registerAndLogin(api, 'ben');
    c = await registerAndLogin(api, 'cleo');
    // Interleaved with other conversations so that "both directions, nothing else" is tested.
    await send(a, b, 'a→b 1', ab);
    await send(a, c, 'a→c 1', ac);
    await send(b, a, 'b→a 1', ab);
    await send(c, b, 'c→b 1', cb);
    await send(a, b, 'a→b 2', ab);
    await writer.write({
      conversation: GROUP_CONVERSATION,
      senderId: a.user.user_id,
      targetId: null,
      msgType: MsgType.Text,
      content: 'group',
      clientMsgId: null,
      fileId: null,
      onlineCount: 3,
    });
    await send(b, a, 'b→a 2', ab);
    await send(c, a, 'c→a 1', ac);
    await send(a, b, 'a→b 3', ab);
  });
  after(async () => {
    await writer.close();
    await api.close();
  });

  function list(session: Session | undefined, query: Record<string, string> = {}) {
    const search = new URLSearchParams(query).toString();
    return call(api.url, `/api/chat_privateList${search ? `?${search}` : ''}`, { token: session?.token });
  }

  async function listOk(session: Session, query: Record<string, string> = {}) {
    const answer = await list(session, query);
    assert.deepEqual([answer.status, answer.code], [200, 0], `${JSON.stringify(query)} → ${answer.msg}`);
    return answer.data as { count: number; list: any[] };
  }

  it('shows both directions between the caller and the peer, newest first, and nothing else', async () => {
    const data = await listOk(a, { username: b.user.user_name });
    assert.equal(data.count, 5);
    assert.deepEqual(
      data.list.map((m) => m.id),
      [...ab].reverse(),
    );
    const pair = new Set([a.user.user_id, b.user.user_id]);
    for (const m of data.list) {
      assert.ok(pair.has(m.user_id) && pair.has(m.target_id) && m.user_id !== m.target_id, JSON.stringify(m));
    }
    assert.deepEqual(
      data.list.map((m) => m.content),
      ['a→b 3', 'b→a 2', 'a→b 2', 'b→a 1', 'a→b 1'],
    );
  });

  it('is the same conversation seen from the peer, or named by target_id', async () => {
    const fromB = await listOk(b, { username: a.user.user_name });
    assert.equal(fromB.count, 5);
    assert.deepEqual(
      fromB.list.map((m) => m.id),
      [...ab].reverse(),
    );
    const byId = await listOk(a, { target_id: b.user.user_id });
    assert.deepEqual(byId, await listOk(a, { username: b.user.user_name }));
    const both = await listOk(a, { target_id: b.user.user_id, username: b.user.user_name });
    assert.equal(both.count, 5);
  });

  it('items have exactly the private frame keys, with the target filled in', async () => {
    const data = await listOk(a, { username: b.user.user_name, sort: 'created_at asc' });
    for (const item of data.list) {
      assert.deepEqual(Object.keys(item).sort(), [...PRIVATE_FRAME_KEYS].sort());
      assert.equal(typeof item.id, 'number');
      assert.ok(!Number.isNaN(Date.parse(item.date)));
    }
    const [first, second] = data.list;
    assert.deepEqual(
      [first.user_id, first.username, first.avatar, first.target_id, first.target_name, first.target_avatar],
      [a.user.user_id, a.user.user_name, a.user.avatar, b.user.user_id, b.user.user_name, b.user.avatar],
    );
    assert.deepEqual([second.user_id, second.target_id], [b.user.user_id, a.user.user_id]);
  });

  it('without a peer lists every private message the caller sent or received, newest first', async () => {
    const data = await listOk(a, { limit: '100' });
    const expected = [...ab, ...ac].sort((x, y) => y - x);
    assert.equal(data.count, expected.length);
    assert.deepEqual(
      data.list.map((m) => m.id),
      expected,
    );
    assert.ok(data.list.every((m) => m.target_id), 'no group messages');
    assert.ok(!data.list.some((m) => cb.includes(m.id)), 'not other people’s conversations');
    const empty = await listOk(a, { username: '', limit: '100' });
    assert.deepEqual(empty, data);
  });

  it('pages and cursors work on private history', async () => {
    const page2 = await listOk(a, { username: b.user.user_name, limit: '2', page: '2' });
    assert.equal(page2.count, 5);
    assert.deepEqual(
      page2.list.map((m) => m.id),
      [ab[2], ab[1]],
    );
    const later = await listOk(a, { username: b.user.user_name, after_id: String(ab[1]) });
    assert.equal(later.count, 5);
    assert.deepEqual(
      later.list.map((m) => m.id),
      ab.slice(2),
    );
    const earlier = await listOk(b, { username: a.user.user_name, before_id: String(ab[3]) });
    assert.deepEqual(
      earlier.list.map((m) => m.id),
      [ab[2], ab[1], ab[0]],
    );
    const allAfter = await listOk(a, { after_id: String(ab[0]) });
    assert.deepEqual(
      allAfter.list.map((m) => m.id),
      [...ab.slice(1), ...ac].sort((x, y) => x - y),
    );
  });

  it('sort by username orders by sender name', async () => {
    const data = await listOk(a, { username: b.user.user_name, sort: 'username asc' });
    // anna < ben; each sender's messages in id order.
    assert.deepEqual(
      data.list.map((m) => m.content),
      ['a→b 1', 'a→b 2', 'a→b 3', 'b→a 1', 'b→a 2'],
    );
  });

  it('an unknown peer → 404 / 1005', async () => {
    for (const query of [{ username: 'no-such-user' }, { target_id: '0000000000' }] as Array<Record<string, string>>) {
      const answer = await list(a, query);
      assert.deepEqual([answer.status, answer.code], [404, 1005], JSON.stringify(query));
    }
  });

  it('bad parameters → 400 / 1002', async () => {
    const bad: Array<Record<string, string>> = [
      { target_id: 'not-an-id' },
      { target_id: b.user.user_id, username: c.user.user_name },
      { username: b.user.user_name, sort: 'content desc' },
      { username: b.user.user_name, limit: '500' },
      { username: b.user.user_name, page: '0' },
      { username: b.user.user_name, after_id: '1', before_id: '9' },
      { username: b.user.user_name, before_id: 'last' },
    ];
    for (const query of bad) {
      const answer = await list(a, query);
      assert.deepEqual([answer.status, answer.code], [400, 1002], JSON.stringify(query));
    }
  });

  it('requires a token → 401 / 1003', async () => {
    const answer = await list(undefined, { username: b.user.user_name });
    assert.deepEqual([answer.status, answer.code], [401, 1003]);
  });
});
