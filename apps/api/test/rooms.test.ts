import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/start-api.ts';
import { call, type Answer } from './support/http.ts';
import { registerAll, registerAndLogin } from './support/accounts.ts';
import { MessageStore } from './support/messages.ts';

interface Session {
  token: string;
  user: { user_id: string; user_name: string; avatar: string };
}

const ROOM_KEYS = ['room_id', 'conversation', 'name', 'owner_id', 'member_count', 'created_at', 'updated_at', 'role'];

describe('rooms', () => {
  let api: TestApi;
  let store: MessageStore;
  let ann: Session;
  let bob: Session;
  let cat: Session;
  let dan: Session;
  let eve: Session;

  const as = (who: Session, method: string, path: string, body?: unknown): Promise<Answer> =>
    call(api.url, path, { method, token: who.token, body });
  const create = async (owner: Session, name: string, members: Session[] = []) => {
    const answer = await as(owner, 'POST', '/api/rooms', { name, member_ids: members.map((m) => m.user.user_id) });
    assert.equal(answer.code, 0, answer.msg);
    return answer.data as { room_id: string; conversation: string; member_count: number };
  };
  const members = async (who: Session, roomId: string) => {
    const answer = await as(who, 'GET', `/api/rooms/${roomId}`);
    assert.equal(answer.code, 0, answer.msg);
    return (answer.data.members as Array<{ user_id: string; role: string }>).map((m) => [m.user_id, m.role]);
  };

  before(async () => {
    api = await startApi();
    store = new MessageStore(api.config.mysql.url, api.sql);
    [ann, bob, cat, dan, eve] = await registerAll(api, ['ann', 'bob', 'cat', 'dan', 'eve']);
  });
  after(async () => {
    await store.close();
    const failures = api.logLines.filter((line) => line.includes('request failed'));
    await api.close();
    assert.deepEqual(failures, [], 'no request ended as a 500');
  });

  it('creates a room whose creator owns it, and lists it for every member with their role', async () => {
    const answer = await as(ann, 'POST', '/api/rooms', {
      name: '  读书会 📚  ',
      // Yourself, repeats and upper case are all fine.
      member_ids: [bob.user.user_id, bob.user.user_id.toUpperCase(), ann.user.user_id, cat.user.user_id],
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.code, 0, answer.msg);
    const room = answer.data;
    assert.deepEqual(Object.keys(room), ROOM_KEYS);
    assert.match(room.room_id, /^[0-9a-f]{12}$/);
    assert.equal(room.conversation, `r:${room.room_id}`);
    assert.deepEqual([room.name, room.owner_id, room.member_count, room.role], ['读书会 📚', ann.user.user_id, 3, 'owner']);

    const list = await as(bob, 'GET', '/api/rooms');
    assert.deepEqual(list.data.count, 1);
    assert.deepEqual([list.data.list[0].room_id, list.data.list[0].role], [room.room_id, 'member']);
    assert.deepEqual((await as(eve, 'GET', '/api/rooms')).data, { count: 0, list: [] });

    const shown = await as(cat, 'GET', `/api/rooms/${room.room_id}`);
    assert.deepEqual(Object.keys(shown.data), [...ROOM_KEYS, 'members']);
    assert.deepEqual(Object.keys(shown.data.members[0]), ['user_id', 'user_name', 'avatar', 'role', 'joined_at']);
    assert.deepEqual(shown.data.members[0], { user_id: ann.user.user_id, user_name: ann.user.user_name, avatar: ann.user.avatar, role: 'owner', joined_at: room.created_at });
    assert.deepEqual(
      shown.data.members.map((m: { user_id: string }) => m.user_id).slice(1).sort(),
      [bob.user.user_id, cat.user.user_id].sort(),
    );
  });

  it('refuses bad room input with 1002 naming the field, and unknown users by id', async () => {
    const bad: Array<[unknown, string]> = [
      [{}, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(65) }, 'name'],
      [{ name: 'a\u0000b' }, 'name'],
      [{ name: 42 }, 'name'],
      [{ name: 'ok', member_ids: 'abc' }, 'member_ids'],
      [{ name: 'ok', member_ids: ['nothex!!!!'] }, 'member_ids.0'],
      [{ name: 'ok', member_ids: Array.from({ length: 501 }, (_, i) => i.toString(16).padStart(10, '0')) }, 'member_ids'],
    ];
    for (const [body, field] of bad) {
      const answer = await as(ann, 'POST', '/api/rooms', body);
      assert.deepEqual([answer.status, answer.code], [400, 1002], JSON.stringify(body));
      assert.equal(answer.data.errors[0].field, field, JSON.stringify(body));
    }
    assert.equal((await as(ann, 'POST', '/api/rooms', { name: 'x'.repeat(64) })).code, 0, '64 characters are fine');
    assert.equal((await as(ann, 'POST', '/api/rooms', { name: '😀'.repeat(64) })).code, 0, '64 emoji are 64 characters');

    const unknown = await as(ann, 'POST', '/api/rooms', { name: 'ghosts', member_ids: [bob.user.user_id, '00000000aa', '00000000bb'] });
    assert.deepEqual([unknown.status, unknown.code], [400, 1002]);
    assert.deepEqual(unknown.data.unknown_user_ids, ['00000000aa', '00000000bb']);
    assert.match(unknown.msg, /00000000aa, 00000000bb/);
    // Nothing was made.
    assert.equal((await as(bob, 'GET', '/api/rooms')).data.list.filter((r: { name: string }) => r.name === 'ghosts').length, 0);
    assert.deepEqual([(await call(api.url, '/api/rooms')).status, (await call(api.url, '/api/rooms')).code], [401, 1003]);
  });

  it('shows a room to members only: 404 to others, 403 to members without the right', async () => {
    const room = await create(ann, 'rights', [bob]);
    const path = `/api/rooms/${room.room_id}`;
    for (const [method, suffix, body] of [
      ['GET', '', undefined],
      ['PATCH', '', { name: 'mine now' }],
      ['POST', '/members', { user_ids: [eve.user.user_id] }],
      ['DELETE', `/members/${bob.user.user_id}`, undefined],
      ['PATCH', `/members/${bob.user.user_id}`, { role: 'admin' }],
    ] as const) {
      const outsider = await as(eve, method, path + suffix, body);
      assert.deepEqual([outsider.status, outsider.code], [404, 1005], `${method} ${suffix} by an outsider`);
    }
    for (const [method, suffix, body] of [
      ['PATCH', '', { name: 'mine now' }],
      ['POST', '/members', { user_ids: [eve.user.user_id] }],
      ['DELETE', `/members/${ann.user.user_id}`, undefined],
      ['PATCH', `/members/${ann.user.user_id}`, { role: 'member' }],
    ] as const) {
      const member = await as(bob, method, path + suffix, body);
      assert.deepEqual([member.status, member.code], [403, 1004], `${method} ${suffix} by a member`);
    }
    for (const id of ['000000000000', 'not-a-room', 'ABCDEFABCDEF']) {
      const answer = await as(ann, 'GET', `/api/rooms/${id}`);
      assert.deepEqual([answer.status, answer.code], [404, 1005], id);
    }
    assert.deepEqual(await members(ann, room.room_id), [
      [ann.user.user_id, 'owner'],
      [bob.user.user_id, 'member'],
    ]);
  });

  it('lets admins manage members and the name, but not other admins nor the owner', async () => {
    const room = await create(ann, 'managed', [bob, cat]);
    const base = `/api/rooms/${room.room_id}`;
    const promoted = await as(ann, 'PATCH', `${base}/members/${bob.user.user_id}`, { role: 'admin' });
    assert.equal(promoted.code, 0, promoted.msg);
    assert.deepEqual(Object.keys(promoted.data), ['user_id', 'user_name', 'avatar', 'role', 'joined_at']);
    assert.equal(promoted.data.role, 'admin');

    const added = await as(bob, 'POST', `${base}/members`, { user_ids: [dan.user.user_id, cat.user.user_id] });
    assert.equal(added.code, 0, added.msg);
    assert.deepEqual([added.data.added, added.data.already_members], [[dan.user.user_id], [cat.user.user_id]]);
    assert.deepEqual([added.data.room.member_count, added.data.room.role], [4, 'admin']);

    assert.equal((await as(bob, 'PATCH', base, { name: 'renamed by an admin' })).data.name, 'renamed by an admin');
    assert.equal((await as(bob, 'DELETE', `${base}/members/${dan.user.user_id}`)).code, 0);
    assert.equal((await as(ann, 'PATCH', `${base}/members/${cat.user.user_id}`, { role: 'admin' })).code, 0);
    assert.equal((await as(bob, 'DELETE', `${base}/members/${cat.user.user_id}`)).status, 403, 'an admin cannot remove an admin');
    assert.equal((await as(bob, 'DELETE', `${base}/members/${ann.user.user_id}`)).status, 403, 'nor the owner');
    assert.equal((await as(bob, 'PATCH', `${base}/members/${cat.user.user_id}`, { role: 'member' })).status, 403, 'only the owner sets roles');

    const ownerRole = await as(ann, 'PATCH', `${base}/members/${ann.user.user_id}`, { role: 'member' });
    assert.deepEqual([ownerRole.status, ownerRole.code], [400, 1002]);
    const badRole = await as(ann, 'PATCH', `${base}/members/${cat.user.user_id}`, { role: 'owner' });
    assert.deepEqual([badRole.status, badRole.code, badRole.data.errors[0].field], [400, 1002, 'role']);
    const notMember = await as(ann, 'PATCH', `${base}/members/${eve.user.user_id}`, { role: 'admin' });
    assert.deepEqual([notMember.status, notMember.code], [404, 1005]);
    const removeStranger = await as(ann, 'DELETE', `${base}/members/${eve.user.user_id}`);
    assert.deepEqual([removeStranger.status, removeStranger.code], [404, 1005]);

    // Bob and Cat joined together, so their order is by id.
    assert.deepEqual(await members(ann, room.room_id), [
      [ann.user.user_id, 'owner'],
      ...[bob.user.user_id, cat.user.user_id].sort().map((id) => [id, 'admin']),
    ]);
    const shown = await as(ann, 'GET', base);
    assert.equal(shown.data.member_count, 3);
  });

  it('closes the room and its history to a removed member at once', async () => {
    const room = await create(ann, 'closing', [bob]);
    await store.send(room.conversation, ann.user.user_id, 'before removal');
    const history = `/api/conversations/${encodeURIComponent(room.conversation)}/messages`;
    assert.equal((await as(bob, 'GET', history)).data.count, 1);

    const removed = await as(ann, 'DELETE', `/api/rooms/${room.room_id}/members/${bob.user.user_id}`);
    assert.equal(removed.code, 0, removed.msg);
    assert.deepEqual([removed.data.member_count, removed.data.role], [1, 'owner']);

    for (const path of [`/api/rooms/${room.room_id}`, history]) {
      const answer = await as(bob, 'GET', path);
      assert.deepEqual([answer.status, answer.code], [404, 1005], path);
    }
    const inbox = await as(bob, 'GET', '/api/conversations');
    assert.ok(!inbox.data.list.some((item: { conversation: string }) => item.conversation === room.conversation));
    assert.ok(!(await as(bob, 'GET', '/api/rooms')).data.list.some((r: { room_id: string }) => r.room_id === room.room_id));
  });

  it('passes ownership on when the owner leaves: the oldest admin, else the oldest member; the last one out deletes the room', async () => {
    const room = await create(ann, 'succession', [bob]);
    const base = `/api/rooms/${room.room_id}`;
    await as(ann, 'POST', `${base}/members`, { user_ids: [cat.user.user_id] });
    await as(ann, 'POST', `${base}/members`, { user_ids: [dan.user.user_id] });
    await as(ann, 'PATCH', `${base}/members/${dan.user.user_id}`, { role: 'admin' });

    const left = await as(ann, 'DELETE', `${base}/members/${ann.user.user_id}`);
    assert.equal(left.code, 0, left.msg);
    assert.deepEqual([left.data.owner_id, left.data.member_count, left.data.role], [dan.user.user_id, 3, undefined]);
    assert.deepEqual(await members(dan, room.room_id), [
      [dan.user.user_id, 'owner'],
      [bob.user.user_id, 'member'],
      [cat.user.user_id, 'member'],
    ]);

    // No admin left: the member who joined first takes over.
    assert.equal((await as(dan, 'DELETE', `${base}/members/${dan.user.user_id}`)).data.owner_id, bob.user.user_id);
    assert.equal((await as(cat, 'DELETE', `${base}/members/${cat.user.user_id}`)).data.owner_id, bob.user.user_id, 'a member leaving changes no owner');
    const last = await as(bob, 'DELETE', `${base}/members/${bob.user.user_id}`);
    assert.deepEqual([last.code, last.data.member_count], [0, 0]);
    assert.equal((await as(bob, 'GET', base)).status, 404);
    const [row] = await api.sql.query('SELECT COUNT(*) AS n FROM rooms WHERE room_id = ?', [room.room_id]);
    assert.equal(Number(row.n), 0);
  });

  it('starts a new member reading after the latest message, so history is not unread', async () => {
    const room = await create(ann, 'late joiner');
    for (const text of ['one', 'two']) await store.send(room.conversation, ann.user.user_id, text);
    await as(ann, 'POST', `/api/rooms/${room.room_id}/members`, { user_ids: [eve.user.user_id] });
    const item = (await as(eve, 'GET', '/api/conversations')).data.list.find((i: { conversation: string }) => i.conversation === room.conversation);
    assert.deepEqual([item.unread_count, item.last_message.content], [0, 'two']);
    await store.send(room.conversation, ann.user.user_id, 'three');
    const after = (await as(eve, 'GET', '/api/conversations')).data.list.find((i: { conversation: string }) => i.conversation === room.conversation);
    assert.equal(after.unread_count, 1);
  });

  describe('limits from config', () => {
    let small: TestApi;
    let people: Session[];
    before(async () => {
      small = await startApi({ shareWith: api, overrides: { rooms: { max_members: 3, max_rooms_per_user: 2, max_members_per_call: 2 } } });
      people = await Promise.all(['lim1', 'lim2', 'lim3', 'lim4', 'lim5'].map((name) => registerAndLogin(small, name)));
    });
    after(() => small.close());

    const on = (who: Session, method: string, path: string, body?: unknown) => call(small.url, path, { method, token: who.token, body });
    const ids = (...sessions: Session[]) => sessions.map((s) => s.user.user_id);

    it('refuses rooms past max_members, calls past max_members_per_call and users past max_rooms_per_user', async () => {
      const [o, a, b, c] = people as [Session, Session, Session, Session];
      const perCall = await on(o, 'POST', '/api/rooms', { name: 'big', member_ids: ids(a, b, c) });
      assert.deepEqual([perCall.code, perCall.data.errors[0].field], [1002, 'member_ids']);

      const room = (await on(o, 'POST', '/api/rooms', { name: 'small', member_ids: ids(a) })).data;
      assert.equal(room.member_count, 2);
      const full = await on(o, 'POST', `/api/rooms/${room.room_id}/members`, { user_ids: ids(b, c) });
      assert.deepEqual([full.code, full.data.max_members], [1002, 3]);
      assert.equal((await on(o, 'POST', `/api/rooms/${room.room_id}/members`, { user_ids: ids(b) })).code, 0);

      // A is in one room; one more of her own makes two, the limit.
      assert.equal((await on(a, 'POST', '/api/rooms', { name: 'a two' })).code, 0);
      const third = await on(b, 'POST', '/api/rooms', { name: 'one too many', member_ids: ids(a) });
      assert.deepEqual([third.code, third.data.user_ids, third.data.errors[0].field], [1002, ids(a), 'member_ids']);
      const own = await on(a, 'POST', '/api/rooms', { name: 'a three' });
      assert.deepEqual([own.code, own.data.user_ids], [1002, ids(a)]);
    });

    it('keeps the per-user room limit exact when two rooms add the same user at once', async () => {
      const [, , , c, d] = people as [Session, Session, Session, Session, Session];
      const owners = await Promise.all(['lim6', 'lim7'].map((name) => registerAndLogin(small, name)));
      const rooms = await Promise.all(owners.map((owner, i) => on(owner, 'POST', '/api/rooms', { name: `race ${i}` }).then((a) => a.data)));
      // D is in one room, so only one of the two adds can succeed.
      assert.equal((await on(d, 'POST', '/api/rooms', { name: 'd one' })).code, 0);
      const answers = await Promise.all(rooms.map((room, i) => on(owners[i]!, 'POST', `/api/rooms/${room.room_id}/members`, { user_ids: ids(d, c) })));
      assert.deepEqual(answers.map((answer) => answer.code).sort(), [0, 1002]);
      const [count] = await small.sql.query("SELECT COUNT(*) AS n FROM conversation_members WHERE user_id = ? AND conversation LIKE 'r:%'", [d.user.user_id]);
      assert.equal(Number(count.n), 2);
    });
  });
});
