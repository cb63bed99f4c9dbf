import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ApiError, ChatSocket, CloseCode, type ChatSocketOptions } from '../src/index.ts';
import { ContractServer, pair } from './support/contract-server.ts';
import { nextEvent, record } from './support/events.ts';

/**
 * The socket's reconnect, resume, resend and close-code logic over real sockets, against the
 * in-memory contract server (test/support/contract-server.ts). Backoff is shortened so the
 * tests wait milliseconds, not seconds; what is asserted is what happened, never how long.
 */
describe('ChatSocket (Part 1 endpoints)', { timeout: 60_000 }, () => {
  let server: ContractServer;
  const sockets: ChatSocket[] = [];

  before(async () => {
    server = await ContractServer.start();
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
  });
  beforeEach(() => {
    server.behaviour = 'normal';
    server.refuseWith = undefined;
    for (const socket of sockets.splice(0)) socket.close();
  });

  function open(userId: string, options: Partial<ChatSocketOptions> = {}): ChatSocket {
    let token = server.tokenFor(userId);
    const socket = new ChatSocket({
      url: server.url,
      endpoint: { kind: 'group' },
      token: () => token,
      WebSocket: WebSocket as never,
      reconnect: { initialMs: 20, maxMs: 200 },
      selfId: userId,
      ...options,
    });
    sockets.push(socket);
    (socket as unknown as { revokeToken: () => void }).revokeToken = () => server.revoke(token);
    (socket as unknown as { newToken: () => void }).newToken = () => (token = server.tokenFor(userId));
    return socket;
  }

  it('joins, sends and takes its own echo as the ack', async () => {
    const alice = open('aaaaaaaaa1');
    const seen = record(alice);
    await alice.connect();
    assert.equal(alice.state, 'open');
    const sent = alice.send({ msg_type: 4, content: 'hello' });
    const stored = await sent.acked;
    assert.equal(stored.content, 'hello');
    assert.equal(stored.client_msg_id, sent.clientMsgId);
    assert.equal(stored.conversation, 'group');
    assert.match(sent.clientMsgId, /^[A-Za-z0-9_.:-]{1,64}$/, 'a client_msg_id the gateway accepts');
    assert.deepEqual(alice.pending, []);
    assert.deepEqual(seen.messages.map((m) => m.id), [stored.id]);
    assert.deepEqual(seen.states.map((s) => s.state), ['connecting', 'open']);
  });

  it('puts last_id in the URL on every reconnect and gets what it missed exactly once', async () => {
    const start = server.post('group', 'someone', 'before we came').id;
    const bob = open('bbbbbbbbb1', { lastId: start });
    const seen = record(bob);
    await bob.connect();
    server.post('group', 'someone', 'one');
    await nextEvent(bob, 'message', (m) => m.content === 'one');

    server.cutAll();
    await nextEvent(bob, 'state', (s) => s.state === 'reconnecting');
    // While away: two messages it must not miss.
    server.post('group', 'someone', 'two');
    server.post('group', 'someone', 'three');
    await nextEvent(bob, 'state', (s) => s.state === 'open');

    const handshakes = server.handshakes.slice(-2);
    assert.equal(handshakes[0]!.query.get('last_id'), String(start));
    assert.equal(handshakes[1]!.query.get('last_id'), String(start + 1), 'resumes from the last message seen');
    assert.deepEqual(
      seen.messages.map((m) => m.content),
      ['one', 'two', 'three'],
    );
    assert.equal(bob.lastIdOf(), server.messages.at(-1)!.id);
  });

  it('resends a message whose echo was lost with the same client_msg_id: stored once, acked once', async () => {
    const carol = open('ccccccccc1', { lastId: 0 });
    const seen = record(carol);
    const acks: string[] = [];
    carol.on('ack', (id) => acks.push(id));
    await carol.connect();
    server.behaviour = 'store-then-cut';
    const sent = carol.send({ msg_type: 4, content: 'stored, but the echo is lost' });
    await nextEvent(carol, 'state', (s) => s.state === 'reconnecting');
    server.behaviour = 'normal';
    const stored = await sent.acked;

    assert.equal(server.stored(sent.clientMsgId).length, 1, 'stored exactly once');
    assert.equal(stored.id, server.stored(sent.clientMsgId)[0]!.id);
    assert.deepEqual(acks, [sent.clientMsgId]);
    assert.equal(seen.messages.filter((m) => m.client_msg_id === sent.clientMsgId).length, 1, 'shown once');
  });

  it('keeps messages sent while disconnected and sends them, in order, after the welcome', async () => {
    const dave = open('ddddddddd1', { lastId: 0 });
    await dave.connect();
    server.refuseWith = 503;
    server.cutAll();
    await nextEvent(dave, 'state', (s) => s.state === 'reconnecting');
    const first = dave.send({ msg_type: 4, content: 'written offline 1' });
    const second = dave.send({ msg_type: 4, content: 'written offline 2' });
    assert.deepEqual(dave.pending.map((p) => p.frame.content), ['written offline 1', 'written offline 2']);
    assert.equal(server.stored(first.clientMsgId).length, 0);
    server.refuseWith = undefined;
    const [a, b] = await Promise.all([first.acked, second.acked]);
    assert.ok(a.id < b.id, 'sent in the order written');
    assert.deepEqual(dave.pending, []);
  });

  it('resends what a dead connection swallowed, once acks stop coming (no close event needed)', async () => {
    const erin = open('eeeeeeeee1', { lastId: 0, ackTimeoutMs: 150 });
    await erin.connect();
    server.behaviour = 'blackhole';
    const sent = erin.send({ msg_type: 4, content: 'into the void' });
    await nextEvent(erin, 'state', (s) => s.state === 'reconnecting');
    server.behaviour = 'normal';
    const stored = await sent.acked;
    assert.equal(stored.content, 'into the void');
    assert.equal(server.stored(sent.clientMsgId).length, 1);
    const sends = server.received.filter((r) => r.frame.client_msg_id === sent.clientMsgId);
    assert.equal(sends.length, 2, 'sent twice, with the same client_msg_id');
  });

  it('retries a message the server could not store (1500) and gives up on a refused one', async () => {
    const fay = open('fffffffff1', { lastId: 0 });
    await fay.connect();
    server.behaviour = 'storage-down';
    const sent = fay.send({ msg_type: 4, content: 'while MySQL is down' });
    await nextEvent(fay, 'error', (f) => f.code === 1500);
    server.behaviour = 'normal';
    assert.equal((await sent.acked).content, 'while MySQL is down');
    assert.equal(server.stored(sent.clientMsgId).length, 1);

    const tooBig = (() => {
      try {
        fay.send({ msg_type: 4, content: 'x'.repeat(20_000) });
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    assert.ok(tooBig instanceof ApiError && tooBig.code === 1008, 'refused locally, before the gateway closes with 1009');
  });

  it('stops and asks for a login on 4001 (logged out) and 4002 (expired), never reconnecting', async () => {
    for (const code of [CloseCode.TokenRevoked, CloseCode.TokenExpired]) {
      const gus = open('ggggggggg1');
      await gus.connect();
      const handshakes = server.handshakes.length;
      const closed = nextEvent(gus, 'closed');
      server.closeAll(code, 'bye');
      const [change] = await closed;
      assert.equal(change.needsLogin, true);
      assert.equal(change.code, code);
      assert.equal(gus.state, 'closed');
      gus.send({ msg_type: 4, content: 'kept for after the login' });
      assert.equal(server.handshakes.length, handshakes, 'no reconnect with a dead token');
      assert.equal(gus.pending.length, 1);
      gus.close();
    }
  });

  it('comes back at once after 1012 (draining), later after 1008 (flooding), with backoff otherwise', async () => {
    const hal = open('hhhhhhhhh1', { reconnect: { initialMs: 1_000, maxMs: 1_000 } });
    await hal.connect();
    const delays: Record<number, number> = {};
    for (const code of [CloseCode.ServiceRestart, 4003, CloseCode.PolicyViolation]) {
      const reconnecting = nextEvent(hal, 'state', (s) => s.state === 'reconnecting');
      server.closeAll(code);
      delays[code] = (await reconnecting)[0].delayMs!;
      hal.reconnectNow();
      await nextEvent(hal, 'state', (s) => s.state === 'open');
    }
    assert.ok(delays[1012]! <= 250, `1012: ${delays[1012]} ms`);
    assert.ok(delays[4003]! >= 500 && delays[4003]! <= 1_000, `4003: ${delays[4003]} ms`);
    assert.ok(delays[1008]! >= 5_000, `1008: ${delays[1008]} ms`);
  });

  it('asks whether the token is still good when handshakes keep failing, and stops if not', async () => {
    let checks = 0;
    const ivy = open('iiiiiiiii1', {
      checkToken: async () => {
        checks += 1;
        return false;
      },
    });
    await ivy.connect();
    (ivy as unknown as { revokeToken: () => void }).revokeToken();
    const closed = nextEvent(ivy, 'closed');
    server.cutAll();
    const [change] = await closed;
    assert.equal(change.needsLogin, true);
    assert.equal(checks, 1);
  });

  it('picks up again with connect() after a new login, and sends what waited', async () => {
    const jo = open('jjjjjjjjj1', { lastId: 0 });
    await jo.connect();
    const closed = nextEvent(jo, 'closed');
    server.closeAll(CloseCode.TokenExpired);
    await closed;
    const waiting = jo.send({ msg_type: 4, content: 'typed while signed out' });
    (jo as unknown as { newToken: () => void }).newToken();
    await jo.connect();
    assert.equal((await waiting.acked).content, 'typed while signed out');
  });

  it('private sockets name the peer, and their messages carry the pair as conversation', async () => {
    const kim = open('kkkkkkkkk1', { endpoint: { kind: 'private', targetId: 'kkkkkkkkk2' } });
    await kim.connect();
    assert.equal(server.handshakes.at(-1)!.path, '/api/chat_private');
    assert.equal(server.handshakes.at(-1)!.query.get('target_id'), 'kkkkkkkkk2');
    const stored = await kim.send({ msg_type: 4, content: 'psst' }).acked;
    assert.equal(stored.conversation, pair('kkkkkkkkk1', 'kkkkkkkkk2'));
    assert.equal(kim.conversation, pair('kkkkkkkkk1', 'kkkkkkkkk2'));
  });

  it('can send the token as the bearer subprotocol instead of the query', async () => {
    const lee = open('lllllllll1', { tokenIn: 'subprotocol' });
    await lee.connect();
    const handshake = server.handshakes.at(-1)!;
    assert.equal(handshake.query.get('Authorization'), null);
    assert.match(handshake.protocols ?? '', /^bearer, ?token-/);
    assert.equal(lee.transport?.protocol, 'bearer');
  });

  it('without reconnecting, a refused handshake rejects connect() and a close ends it', async () => {
    server.refuseWith = 401;
    const max = open('mmmmmmmmm1', { reconnect: false });
    await assert.rejects(max.connect(), /closed \(1006/);
    assert.equal(max.state, 'closed');
    server.refuseWith = undefined;
    await max.connect();
    const closed = nextEvent(max, 'closed');
    server.cutAll();
    assert.equal((await closed)[0].code, 1006);
  });
});
