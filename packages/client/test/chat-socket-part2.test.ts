import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ChatSocket, type ChatMessage } from '../src/index.ts';
import { ContractServer, pair } from './support/contract-server.ts';
import { nextEvent, record } from './support/events.ts';

/**
 * Part 2's `/api/chat` as CONTRACT.md writes it — resume (msg_type 10) after every open, the
 * caught-up notice as the welcome, `conversation` on every frame, typing and read — against the
 * contract server, so the SDK is ready before the gateways speak it.
 */
describe('ChatSocket on /api/chat (Part 2)', { timeout: 60_000 }, () => {
  let server: ContractServer;
  const sockets: ChatSocket[] = [];

  before(async () => {
    server = await ContractServer.start();
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
  });

  function open(userId: string, lastIds: Record<string, number> = {}): ChatSocket {
    const token = server.tokenFor(userId);
    const socket = new ChatSocket({
      url: server.url,
      endpoint: { kind: 'chat' },
      token: () => token,
      WebSocket: WebSocket as never,
      reconnect: { initialMs: 20, maxMs: 200 },
      selfId: userId,
      lastIds,
    });
    sockets.push(socket);
    return socket;
  }

  it('resumes every conversation it knows after each (re)connect, and misses nothing', async () => {
    const me = 'aaaaaaaaa2';
    const peer = 'bbbbbbbbb2';
    const privateChat = pair(me, peer);
    const groupStart = server.post('group', peer, 'group before').id;
    server.post(privateChat, peer, 'private before');
    const socket = open(me, { group: groupStart, [privateChat]: 0 });
    const seen = record(socket);
    await socket.connect();

    const resume = server.received.find((r) => r.userId === me && r.frame.msg_type === 10)!.frame;
    assert.deepEqual(resume, { msg_type: 10, conversations: { group: groupStart, [privateChat]: 0 } });
    assert.deepEqual(seen.messages.map((m) => [m.conversation, m.content]), [[privateChat, 'private before']]);

    server.cutAll();
    await nextEvent(socket, 'state', (s) => s.state === 'reconnecting');
    server.post('group', peer, 'group while away');
    server.post(privateChat, peer, 'private while away');
    await nextEvent(socket, 'state', (s) => s.state === 'open');

    const resumes = server.received.filter((r) => r.userId === me && r.frame.msg_type === 10);
    assert.equal(resumes.length, 2);
    assert.deepEqual(resumes[1]!.frame.conversations, {
      group: groupStart,
      [privateChat]: seen.messages.find((m) => m.content === 'private before')!.id,
    });
    assert.deepEqual(
      seen.messages.map((m) => m.content),
      ['private before', 'group while away', 'private while away'],
    );
  });

  it('a resume that failed as a whole (1500, no conversation) is sent again on the same socket until caught up', async () => {
    const me = 'fffffffff2';
    const privateChat = pair(me, 'bbbbbbbbb2');
    server.post(privateChat, 'bbbbbbbbb2', 'waiting for me');
    server.failingResumes = 2;
    const socket = open(me, { [privateChat]: 0 });
    const seen = record(socket);
    await socket.connect();
    const resumes = server.received.filter((r) => r.userId === me && r.frame.msg_type === 10);
    assert.equal(resumes.length, 3);
    assert.deepEqual(seen.messages.map((m) => m.content), ['waiting for me']);
    assert.equal(seen.states.filter((s) => s.state === 'reconnecting').length, 0);
  });

  it('a conversation whose catch-up failed (1500 naming it) is resumed again on its own until it comes', async () => {
    const me = 'ggggggggg2';
    const slow = pair(me, 'bbbbbbbbb2');
    const fine = pair(me, 'ccccccccc2');
    server.post(slow, 'bbbbbbbbb2', 'missed while away');
    server.post(fine, 'ccccccccc2', 'caught up at once');
    server.failingCatchUps.set(slow, 2);
    const socket = open(me, { [slow]: 0, [fine]: 0 });
    const seen = record(socket);
    await socket.connect();
    assert.deepEqual(seen.messages.map((m) => m.content), ['caught up at once']);
    const missed = await nextEvent(socket, 'message');
    assert.equal(missed[0].content, 'missed while away');
    const resumes = server.received.filter((r) => r.userId === me && r.frame.msg_type === 10).map((r) => r.frame.conversations);
    assert.deepEqual(resumes, [{ [slow]: 0, [fine]: 0 }, { [slow]: 0 }, { [slow]: 0 }]);
    assert.equal(seen.states.filter((s) => s.state === 'reconnecting').length, 0);
  });

  it('sends to a named conversation and is acked by the echo; refuses a send without one', async () => {
    const socket = open('ccccccccc2');
    await socket.connect();
    const stored: ChatMessage = await socket.send({ conversation: 'r:room1', msg_type: 4, content: 'to the room' }).acked;
    assert.equal(stored.conversation, 'r:room1');
    assert.throws(() => socket.send({ msg_type: 4, content: 'where to?' }), /names its conversation/);
  });

  it('follows the group room when asked, resuming it from the id given', async () => {
    const socket = open('ddddddddd2');
    await socket.connect();
    const from = server.post('group', 'someone', 'old').id;
    const caughtUp = nextEvent(socket, 'notice');
    socket.follow('group', from);
    await caughtUp;
    const resume = server.received.filter((r) => r.userId === 'ddddddddd2' && r.frame.msg_type === 10).at(-1)!.frame;
    assert.deepEqual(resume.conversations, { group: from });
    server.post('group', 'someone', 'new');
    assert.equal((await nextEvent(socket, 'message'))[0].content, 'new');
  });

  it('relays typing and read frames, and sends a read cursor set while offline after the resume', async () => {
    const a = open('eeeeeeeee2');
    const b = open('fffffffff2');
    const conversation = pair('eeeeeeeee2', 'fffffffff2');
    await Promise.all([a.connect(), b.connect()]);
    const caughtUp = Promise.all([nextEvent(a, 'notice'), nextEvent(b, 'notice')]);
    a.follow(conversation, 0);
    b.follow(conversation, 0);
    await caughtUp;

    const typing = nextEvent(b, 'typing');
    assert.equal(a.typing(conversation), true, 'sent');
    assert.deepEqual((await typing)[0].user_id, 'eeeeeeeee2');

    server.cutUser('eeeeeeeee2');
    await nextEvent(a, 'state', (s) => s.state === 'reconnecting');
    assert.equal(a.typing(conversation), false, 'dropped while reconnecting, and says so');
    a.markRead(conversation, 7);
    a.markRead(conversation, 5);
    const read = await nextEvent(b, 'read');
    assert.equal(read[0].last_read_id, 7, 'the newest cursor, once');
    const reads = server.received.filter((r) => r.userId === 'eeeeeeeee2' && r.frame.msg_type === 9);
    assert.equal(reads.length, 1);
  });
});
