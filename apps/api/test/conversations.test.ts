import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedisPresence, type Presence } from '@im/presence';
import { privateConversation } from '@im/protocol';
import { startApi, type TestApi } from './support/start-api.ts';
import { call, type Answer } from './support/http.ts';
import { registerAll } from './support/accounts.ts';
import { MessageStore } from './support/messages.ts';

interface Session {
  token: string;
  user: { user_id: string; user_name: string; avatar: string };
}

const ITEM_KEYS = ['conversation', 'kind', 'title', 'avatar', 'last_message', 'unread_count', 'unread_capped', 'last_read_id'];
const PART1_GROUP_FRAME_KEYS = ['id', 'user_id', 'username', 'avatar', 'msg_type', 'content', 'date', 'online_count'];

describe('the inbox, conversation history and read cursors', () => {
  let api: TestApi;
  let store: MessageStore;
  let presenceRedis: Redis;
  let gateway: Presence;
  let ann: Session;
  let bob: Session;
  let cat: Session;
  let eve: Session;
  let room: { room_id: string; conversation: string };
  let ab: string;
  let roomIds: number[];

  const as = (who: Session, method: string, path: string, body?: unknown): Promise<Answer> =>
    call(api.url, path, { method, token: who.token, body });
  const messagesOf = (who: Session, conversation: string, query = '') =>
    as(who, 'GET', `/api/conversations/${encodeURIComponent(conversation)}/messages${query}`);
  const read = (who: Session, conversation: string, body: unknown) => as(who, 'POST', `/api/conversations/${encodeURIComponent(conversation)}/read`, body);
  const inbox = async (who: Session, query = '') => {
    const answer = await as(who, 'GET', `/api/conversations${query}`);
    assert.equal(answer.code, 0, answer.msg);
    return answer.data as { list: any[]; next: string | null };
  };

  before(async () => {
    // Rooms of up to 3 relay read receipts to the others (and tell how far they read); larger ones do not.
    api = await startApi({ overrides: { gateway: { presence_notice_max_online: 3 } } });
    store = new MessageStore(api.config.mysql.url, api.sql);
    [ann, bob, cat, eve] = await registerAll(api, ['ann', 'bob', 'cat', 'eve']);
    // A gateway's presence on the same Redis and prefix: what makes a peer "online".
    presenceRedis = new Redis(api.config.redis.url);
    gateway = createRedisPresence({ redis: presenceRedis, prefix: api.config.redis.prefix, gatewayId: 'gw-test' });
    await gateway.start();

    room = (await as(ann, 'POST', '/api/rooms', { name: 'book club', member_ids: [bob.user.user_id] })).data;
    ab = privateConversation(ann.user.user_id, bob.user.user_id);
    await store.send('group', cat.user.user_id, 'hello group');
    roomIds = [];
    for (const text of ['r1', 'r2', 'r3']) roomIds.push((await store.send(room.conversation, bob.user.user_id, text)).id);
    await store.send(ab, bob.user.user_id, 'psst');
  });
  after(async () => {
    await gateway.stop();
    presenceRedis.disconnect();
    await store.close();
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('lists group, rooms and private chats newest first, with last message, unread count and who the peer is', async () => {
    await gateway.connectUser(bob.user.user_id);
    const { list, next } = await inbox(ann);
    assert.equal(next, null);
    assert.deepEqual(list.map((item) => item.conversation), [ab, room.conversation, 'group']);
    const [chat, club, group] = list;

    assert.deepEqual(Object.keys(chat), [...ITEM_KEYS, 'peer']);
    assert.deepEqual(
      { ...chat, last_message: undefined },
      {
        conversation: ab,
        kind: 'private',
        title: bob.user.user_name,
        avatar: bob.user.avatar,
        last_message: undefined,
        unread_count: 1,
        unread_capped: false,
        last_read_id: 0,
        peer: { user_id: bob.user.user_id, user_name: bob.user.user_name, avatar: bob.user.avatar, online: true },
      },
    );
    assert.deepEqual(
      [chat.last_message.conversation, chat.last_message.content, chat.last_message.target_id],
      [ab, 'psst', ann.user.user_id],
    );

    assert.deepEqual(Object.keys(club), [...ITEM_KEYS, 'room']);
    assert.deepEqual([club.kind, club.title, club.avatar, club.unread_count], ['room', 'book club', '', 3]);
    assert.deepEqual(club.room, { room_id: room.room_id, name: 'book club', member_count: 2, role: 'owner' });
    assert.equal(club.last_message.content, 'r3');

    assert.deepEqual([group.kind, group.title, group.unread_count, group.last_message.content], ['group', '群聊', 1, 'hello group']);
    assert.deepEqual(Object.keys(group.last_message), ['conversation', ...PART1_GROUP_FRAME_KEYS]);

    await gateway.disconnectUser(bob.user.user_id);
    assert.equal((await inbox(ann)).list[0].peer.online, false);
  });

  it('pages the inbox with next and refuses bad paging input', async () => {
    const first = await inbox(ann, '?limit=2');
    assert.equal(first.list.length, 2);
    assert.ok(first.next);
    const second = await inbox(ann, `?limit=2&before=${first.next}`);
    assert.deepEqual(second.list.map((item) => item.conversation), ['group']);
    assert.equal(second.next, null);
    for (const query of ['?limit=0', '?limit=101', '?limit=x', '?before=bm9wZQ', '?before=', '?limit=1&limit=2']) {
      const answer = await as(ann, 'GET', `/api/conversations${query}`);
      assert.deepEqual([answer.status, answer.code], [400, 1002], query);
    }
  });

  it('pages one conversation in id order, before and after a cursor, for those who may see it', async () => {
    const latest = await messagesOf(bob, room.conversation, '?limit=2');
    assert.equal(latest.code, 0, latest.msg);
    assert.equal(latest.data.count, 3);
    assert.deepEqual(latest.data.list.map((f: { id: number }) => f.id), roomIds.slice(1));
    assert.equal(latest.data.list[0].conversation, room.conversation);
    const older = await messagesOf(bob, room.conversation, `?before_id=${roomIds[1]}`);
    assert.deepEqual(older.data.list.map((f: { content: string }) => f.content), ['r1']);
    const newer = await messagesOf(bob, room.conversation, `?after_id=${roomIds[0]}&limit=1`);
    assert.deepEqual(newer.data.list.map((f: { content: string }) => f.content), ['r2']);
    assert.equal((await messagesOf(eve, 'group')).data.count, 1);
    assert.deepEqual((await messagesOf(ann, ab)).data.list.map((f: { content: string }) => f.content), ['psst']);
    // A private chat nobody wrote in yet is visible to its two people, and empty.
    assert.deepEqual((await messagesOf(ann, privateConversation(ann.user.user_id, eve.user.user_id))).data, { count: 0, list: [] });

    for (const [who, conversation] of [
      [eve, room.conversation],
      [eve, ab],
      [ann, `r:${'0'.repeat(12)}`],
      [ann, privateConversation(ann.user.user_id, '00000000ff')],
    ] as const) {
      const answer = await messagesOf(who, conversation);
      assert.deepEqual([answer.status, answer.code], [404, 1005], `${who.user.user_name} ${conversation}`);
    }
    const [a, b] = [ann.user.user_id, bob.user.user_id].sort();
    for (const conversation of ['Group', `p:${b}:${a}`, `p:${a}:${a}`, 'r:xyz', 'r:', '']) {
      const answer = await as(ann, 'GET', `/api/conversations/${encodeURIComponent(conversation)}/messages`);
      assert.deepEqual([answer.status, answer.code], conversation === '' ? [404, 1005] : [400, 1002], conversation);
    }
    for (const query of ['?before_id=1&after_id=2', '?limit=0', '?limit=101', '?before_id=-1', '?after_id=x']) {
      const answer = await messagesOf(ann, 'group', query);
      assert.deepEqual([answer.status, answer.code], [400, 1002], query);
    }
  });

  it('moves the read cursor forward only, to ids of that conversation, and the unread count with it', async () => {
    const moved = await read(ann, room.conversation, { last_read_id: roomIds[1] });
    assert.equal(moved.code, 0, moved.msg);
    assert.deepEqual(moved.data, { conversation: room.conversation, last_read_id: roomIds[1], moved: true });
    const back = await read(ann, room.conversation, { last_read_id: String(roomIds[0]) });
    assert.deepEqual(back.data, { conversation: room.conversation, last_read_id: roomIds[1], moved: false });
    const club = (await inbox(ann)).list.find((item) => item.conversation === room.conversation);
    assert.deepEqual([club.unread_count, club.last_read_id], [1, roomIds[1]]);

    const wrong = await read(ann, room.conversation, { last_read_id: (await messagesOf(ann, ab)).data.list[0].id });
    assert.deepEqual([wrong.status, wrong.code, wrong.data.errors[0].field], [400, 1002, 'last_read_id']);
    assert.deepEqual([(await read(ann, 'group', { last_read_id: 999_999_999 })).code], [1002]);
    for (const body of [{}, { last_read_id: 0 }, { last_read_id: -3 }, { last_read_id: 1.5 }, { last_read_id: 'abc' }, { last_read_id: null }]) {
      const answer = await read(ann, room.conversation, body);
      assert.deepEqual([answer.status, answer.code], [400, 1002], JSON.stringify(body));
    }
    assert.deepEqual([(await read(eve, room.conversation, { last_read_id: roomIds[2] })).status], [404]);

    // The group's cursor: a row appears on the first move.
    const groupFrame = (await messagesOf(eve, 'group')).data.list[0];
    assert.equal((await read(eve, 'group', { last_read_id: groupFrame.id })).data.moved, true);
    assert.equal((await inbox(eve)).list.find((item) => item.conversation === 'group').unread_count, 0);
  });

  it('tells how far the caller and the others have read, for receipts missed while away', async () => {
    const positions = async (who: Session, conversation: string) => {
      const answer = await as(who, 'GET', `/api/conversations/${encodeURIComponent(conversation)}/read`);
      assert.equal(answer.code, 0, answer.msg);
      return answer.data as { conversation: string; last_read_id: number; others_read_id: number | null };
    };
    const pair = privateConversation(ann.user.user_id, cat.user.user_id);
    const [first, second] = [await store.send(pair, cat.user.user_id, 'one'), await store.send(pair, cat.user.user_id, 'two')];
    // Cat's own messages are read by her; Ann has read nothing yet.
    assert.deepEqual(await positions(ann, pair), { conversation: pair, last_read_id: 0, others_read_id: second.id });
    assert.deepEqual(await positions(cat, pair), { conversation: pair, last_read_id: second.id, others_read_id: 0 });
    assert.equal((await read(ann, pair, { last_read_id: first.id })).code, 0);
    assert.deepEqual(await positions(cat, pair), { conversation: pair, last_read_id: second.id, others_read_id: first.id });
    // Answering counts as reading what came before.
    const answer = await store.send(pair, ann.user.user_id, 'three');
    assert.deepEqual(await positions(cat, pair), { conversation: pair, last_read_id: second.id, others_read_id: answer.id });

    // A room: the furthest any other member read. Above the notice limit (4 members > 3), and in the group, null.
    const small = (await as(cat, 'POST', '/api/rooms', { name: 'two of us', member_ids: [eve.user.user_id] })).data;
    const said = await store.send(small.conversation, cat.user.user_id, 'in the room');
    assert.deepEqual(await positions(eve, small.conversation), { conversation: small.conversation, last_read_id: 0, others_read_id: said.id });
    const big = (await as(cat, 'POST', '/api/rooms', { name: 'four of us', member_ids: [ann.user.user_id, bob.user.user_id, eve.user.user_id] })).data;
    await store.send(big.conversation, cat.user.user_id, 'to all');
    assert.equal((await positions(eve, big.conversation)).others_read_id, null);
    assert.equal((await positions(eve, 'group')).others_read_id, null);

    // Not theirs to see: 404, as for a room that does not exist; a malformed id: 1002.
    for (const conversation of [small.conversation, pair]) {
      const hidden = await as(bob, 'GET', `/api/conversations/${encodeURIComponent(conversation)}/read`);
      assert.deepEqual([hidden.status, hidden.code], [404, 1005], conversation);
    }
    assert.deepEqual([(await as(bob, 'GET', '/api/conversations/nonsense/read')).code], [1002]);
  });

  it('caps unread counts at 99 and says so', async () => {
    const busy = privateConversation(cat.user.user_id, eve.user.user_id);
    const sends = [];
    for (let i = 0; i < 101; i++) sends.push(store.send(busy, cat.user.user_id, `m${i}`));
    await Promise.all(sends);
    const item = (await inbox(eve)).list.find((entry) => entry.conversation === busy);
    assert.deepEqual([item.unread_count, item.unread_capped], [99, true]);
    // Cat wrote them all: nothing unread for her.
    const hers = (await inbox(cat)).list.find((entry) => entry.conversation === busy);
    assert.deepEqual([hers.unread_count, hers.unread_capped, hers.last_read_id], [0, false, hers.last_message.id]);
  });
});
