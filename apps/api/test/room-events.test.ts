import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBusMessage } from '@im/bus';
import type { RoomEventFrame } from '@im/protocol';
import { startApi, type TestApi } from './support/start-api.ts';
import { call, type Answer } from './support/http.ts';
import { registerAll } from './support/accounts.ts';
import { BusListener, type Published } from './support/bus-listener.ts';

interface Session {
  token: string;
  user: { user_id: string };
}

/** A published payload: a transient chat message of the room's conversation carrying the frame clients receive. */
function frameOf(message: Published): RoomEventFrame {
  const decoded = decodeBusMessage(Buffer.from(message.payload));
  assert.ok(decoded, `not a chat bus message: ${message.payload.slice(0, 30)}`);
  const frame = JSON.parse(decoded.frame.toString('utf8')) as RoomEventFrame;
  assert.deepEqual([decoded.kind, decoded.conversation, decoded.seq, decoded.id], ['transient', frame.conversation, 0, 0]);
  return frame;
}

describe('room events on the bus', () => {
  let api: TestApi;
  let bus: BusListener;
  let ann: Session;
  let bob: Session;
  let cat: Session;
  const as = (who: Session, method: string, path: string, body?: unknown): Promise<Answer> =>
    call(api.url, path, { method, token: who.token, body });
  const userChannel = (who: Session) => `user:{${who.user.user_id}}`;

  before(async () => {
    api = await startApi();
    bus = await BusListener.start(api.config.redis.url, api.config.redis.prefix);
    [ann, bob, cat] = await registerAll(api, ['ann', 'bob', 'cat']);
    for (const who of [ann, bob, cat]) await bus.listen(userChannel(who));
  });
  after(async () => {
    await bus.close();
    await api.close();
  });

  it('publishes every membership change and rename to the room and to the member it is about', async () => {
    const created = await as(ann, 'POST', '/api/rooms', { name: 'events', member_ids: [bob.user.user_id] });
    const room = created.data;
    const roomChannel = `room:{${room.conversation}}`;

    // created: to each initial member's own channel (nobody follows the room's channel yet).
    const [toAnn] = await bus.waitFor(userChannel(ann), 1);
    const [toBob] = await bus.waitFor(userChannel(bob), 1);
    assert.deepEqual(frameOf(toAnn!), frameOf(toBob!));
    const createdFrame = frameOf(toAnn!);
    assert.deepEqual(Object.keys(createdFrame), ['conversation', 'msg_type', 'event', 'room', 'by', 'date']);
    assert.deepEqual(createdFrame, {
      conversation: room.conversation,
      msg_type: 11,
      event: 'created',
      room: { room_id: room.room_id, name: 'events', owner_id: ann.user.user_id, member_count: 2 },
      by: ann.user.user_id,
      date: room.created_at,
    });

    await bus.listen(roomChannel);
    await as(ann, 'POST', `/api/rooms/${room.room_id}/members`, { user_ids: [cat.user.user_id] });
    await as(ann, 'PATCH', `/api/rooms/${room.room_id}`, { name: 'renamed' });
    await as(ann, 'PATCH', `/api/rooms/${room.room_id}`, { name: 'renamed' }); // unchanged: no event
    await as(ann, 'PATCH', `/api/rooms/${room.room_id}/members/${bob.user.user_id}`, { role: 'admin' });
    await as(bob, 'DELETE', `/api/rooms/${room.room_id}/members/${cat.user.user_id}`);
    await as(ann, 'DELETE', `/api/rooms/${room.room_id}/members/${ann.user.user_id}`);

    const onRoom = (await bus.waitFor(roomChannel, 6)).map(frameOf);
    const summary = (name: string, ownerId: string, count: number) => ({ room_id: room.room_id, name, owner_id: ownerId, member_count: count });
    assert.deepEqual(
      onRoom.map(({ event, room: r, user_id, role, by }) => ({ event, room: r, user_id, role, by })),
      [
        { event: 'member_added', room: summary('events', ann.user.user_id, 3), user_id: cat.user.user_id, role: 'member', by: ann.user.user_id },
        { event: 'renamed', room: summary('renamed', ann.user.user_id, 3), user_id: undefined, role: undefined, by: ann.user.user_id },
        { event: 'role_changed', room: summary('renamed', ann.user.user_id, 3), user_id: bob.user.user_id, role: 'admin', by: ann.user.user_id },
        { event: 'member_removed', room: summary('renamed', ann.user.user_id, 2), user_id: cat.user.user_id, role: undefined, by: bob.user.user_id },
        // The owner left: removed (by themself), then the next owner.
        { event: 'member_removed', room: summary('renamed', bob.user.user_id, 1), user_id: ann.user.user_id, role: undefined, by: ann.user.user_id },
        { event: 'role_changed', room: summary('renamed', bob.user.user_id, 1), user_id: bob.user.user_id, role: 'owner', by: ann.user.user_id },
      ],
    );

    // Each member got the events about them on their own channel, the same frames.
    const toCat = (await bus.waitFor(userChannel(cat), 2)).map(frameOf);
    assert.deepEqual(toCat, [onRoom[0], onRoom[3]]);
    const bobs = (await bus.waitFor(userChannel(bob), 3)).map(frameOf);
    assert.deepEqual(bobs.slice(1), [onRoom[2], onRoom[5]]);
    const anns = (await bus.waitFor(userChannel(ann), 2)).map(frameOf);
    assert.deepEqual(anns.slice(1), [onRoom[4]]);
  });

  it('commits the change and says so when the bus cannot take the events', async () => {
    await api.broker.close(); // as good as Redis refusing every publish
    const created = await as(ann, 'POST', '/api/rooms', { name: 'unannounced', member_ids: [bob.user.user_id] });
    assert.equal(created.code, 0, created.msg);
    assert.equal((await as(bob, 'GET', `/api/rooms/${created.data.room_id}`)).code, 0);
    const logged = api.logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'room events not published');
    assert.deepEqual(logged.map(({ event, failed, of }) => ({ event, failed, of })), [{ event: 'created', failed: 2, of: 2 }]);
  });
});
