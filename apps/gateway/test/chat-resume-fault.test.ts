import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSqlRunner, insertRoom, type ChatReader, type SqlRunner } from '@im/db';
import { setTimeout as delay } from 'node:timers/promises';
import { privateConversation, roomConversation } from '@im/protocol';
import { ChatClient } from '../../../test/support/chat-client.ts';
import { startInProcessCluster, type InProcessCluster } from './support/in-process-gateways.ts';

/**
 * What a resume costs and how it fails. A conversation with nothing newer than the client's id
 * reads no history page (the feed made for it starts at the conversation's head, read in a batch). A conversation whose catch-up fails (MySQL did not
 * answer in time) must not go live with a hole in it: its live messages wait until a later
 * resume, which sends what was missed and what came meanwhile, in order.
 */
describe('/api/chat resume: its history reads, and one conversation that cannot be caught up', () => {
  let cluster: InProcessCluster;
  let sql: SqlRunner;
  const failing = new Set<string>();
  /** While set, gw-1's resume membership checks take this long (a reconnect storm's queue). */
  let slowMembershipMs = 0;
  /** History pages gw-1 read, by conversation. */
  const pagesRead = new Map<string, number>();
  /** Conversations whose head (where a new feed starts) waits for the promise, and who noticed the wait. */
  const heldHeads = new Map<string, { released: Promise<void>; asked: () => void }>();
  const clients: ChatClient[] = [];

  before(async () => {
    // gw-1's history reads of a conversation in `failing` time out, as under a frozen or swamped MySQL.
    const wrapReader = (reader: ChatReader): ChatReader =>
      new Proxy(reader, {
        get(target, name, receiver) {
          if (name === 'heads') {
            const heads: ChatReader['heads'] = async (conversations) => {
              const held = conversations.map((c) => heldHeads.get(c)).filter((h) => h !== undefined);
              for (const h of held) h.asked();
              await Promise.all(held.map((h) => h.released));
              return target.heads(conversations);
            };
            return heads;
          }
          if (name !== 'framesAfterId') return Reflect.get(target, name, receiver);
          const framesAfterId: ChatReader['framesAfterId'] = (conversation, ...rest) => {
            pagesRead.set(conversation, (pagesRead.get(conversation) ?? 0) + 1);
            return failing.has(conversation) ? Promise.reject(new Error('deadline exceeded')) : target.framesAfterId(conversation, ...rest);
          };
          return framesAfterId;
        },
      });
    const wrapSql = (sql: SqlRunner): SqlRunner =>
      new Proxy(sql, {
        get(target, name, receiver) {
          if (name !== 'query') return Reflect.get(target, name, receiver);
          const query: SqlRunner['query'] = async (statement, values) => {
            if (slowMembershipMs > 0 && statement.includes('FROM conversation_members WHERE user_id = ? AND conversation IN')) await delay(slowMembershipMs);
            return target.query(statement, values);
          };
          return query;
        },
      });
    cluster = await startInProcessCluster({ settings: { messages_per_second: 1_000 }, wrapReader, wrapSql, deviceHoldMs: 200 });
    sql = createSqlRunner({ url: cluster.database.url, connectionLimit: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sql?.close();
    await cluster?.close();
  });

  /** A room of two; the member speaks in it from gw-0, and `say` answers with the stored id. */
  const roomWithSpeaker = async (ownerName: string, memberName: string) => {
    const [owner, member] = await Promise.all([ownerName, memberName].map((n) => cluster.newUser(n)));
    const room = roomConversation(randomBytes(6).toString('hex'));
    await insertRoom(sql, { roomId: room.slice(2), name: `room of ${ownerName}`, ownerId: owner!.userId, memberIds: [member!.userId], at: new Date() });
    const speaker = await ChatClient.connect(cluster.gateways[0]!.url, { token: member!.token, kind: 'chat' });
    clients.push(speaker);
    const say = async (content: string) => {
      speaker.send({ conversation: room, msg_type: 4, content, client_msg_id: content });
      return (await speaker.next((f) => f.client_msg_id === content && f.id !== undefined)).id as number;
    };
    return { owner: owner!, room, say };
  };

  it('a conversation with nothing newer than the client has reads no history page; one with something newer does', async () => {
    const [hal, ivy, jon] = await Promise.all(['hal', 'ivy', 'jon'].map((n) => cluster.newUser(n)));
    const current = privateConversation(hal!.userId, ivy!.userId);
    const behind = privateConversation(hal!.userId, jon!.userId);
    const said: Record<string, number> = {};
    for (const [user, conversation, content] of [[ivy!, current, 'c1'], [ivy!, current, 'c2'], [jon!, behind, 'b1']] as const) {
      const socket = await ChatClient.connect(cluster.gateways[0]!.url, { token: user.token, kind: 'chat' });
      clients.push(socket);
      socket.send({ conversation, msg_type: 4, content, client_msg_id: content });
      said[content] = (await socket.next((f) => f.client_msg_id === content && f.id !== undefined)).id;
    }
    const halPhone = await ChatClient.connect(cluster.gateways[1]!.url, { token: hal!.token, kind: 'chat', lastIds: { [current]: said.c2!, [behind]: 0 } });
    clients.push(halPhone);
    assert.deepEqual(
      halPhone.frames.filter((f) => f.id !== undefined).map((f) => f.content),
      ['b1'],
    );
    assert.equal(pagesRead.get(current), undefined, 'the client had the newest message: no page read');
    assert.ok((pagesRead.get(behind) ?? 0) >= 1);
  });

  it('a first private message stored while its new feed asks MySQL where it starts still reaches its sender (the ack) and peer', async () => {
    const [kit, lou] = await Promise.all(['kit', 'lou'].map((n) => cluster.newUser(n)));
    const pair = privateConversation(kit!.userId, lou!.userId);
    const kitSocket = await ChatClient.connect(cluster.gateways[1]!.url, { token: kit!.token, kind: 'chat' });
    clients.push(kitSocket);
    let release!: () => void;
    let asked!: () => void;
    const headAsked = new Promise<void>((resolve) => (asked = resolve));
    heldHeads.set(pair, { released: new Promise((resolve) => (release = resolve)), asked });
    // lou's resume names the chat: its feed is made on gw-1 with kit's live socket in it, and waits for its head.
    const louSocket = await ChatClient.connect(cluster.gateways[1]!.url, { token: lou!.token, kind: 'chat', lastIds: { [pair]: 0 }, waitForWelcome: false });
    clients.push(louSocket);
    await headAsked;
    kitSocket.send({ conversation: pair, msg_type: 4, content: 'first words', client_msg_id: 'first-words' });
    while (Number((await sql.query('SELECT COUNT(*) AS n FROM chat_messages WHERE conversation = ?', [pair]))[0].n) === 0) await delay(20);
    release();
    heldHeads.delete(pair);
    const echo = await kitSocket.next((f) => f.client_msg_id === 'first-words' && f.id !== undefined);
    const received = await louSocket.next((f) => f.id === echo.id);
    assert.equal(received.content, 'first words');
    assert.equal(kitSocket.frames.filter((f) => f.id === echo.id).length, 1);
  });

  it('a resume whose checks outlast the hold still starts where the client left off: no live frame jumps ahead', async () => {
    const { owner: kim, room, say } = await roomWithSpeaker('kim', 'lea');
    const firstId = await say('s1');
    for (const content of ['s2', 's3']) await say(content);

    slowMembershipMs = 1_500; // far past the 200 ms hold
    const connecting = ChatClient.connect(cluster.gateways[1]!.url, { token: kim.token, kind: 'chat', lastIds: { [room]: firstId } });
    await delay(600);
    await say('s4'); // live while the resume is still checking membership
    const kimSocket = await connecting;
    slowMembershipMs = 0;
    clients.push(kimSocket);
    await kimSocket.next((f) => f.conversation === room && f.content === 's4');
    const delivered = kimSocket.frames.filter((f) => f.conversation === room && f.id !== undefined).map((f) => f.content);
    assert.deepEqual(delivered, ['s2', 's3', 's4']);
  });

  it('the failed conversation gets a 1500 naming it, no live frame until resumed, then everything in order', async () => {
    const { owner: fay, room, say } = await roomWithSpeaker('fay', 'gus');
    const firstId = await say('m1');
    for (const content of ['m2', 'm3']) await say(content);

    failing.add(room);
    const fayLaptop = await ChatClient.connect(cluster.gateways[1]!.url, { token: fay.token, kind: 'chat', lastIds: { [room]: firstId } });
    clients.push(fayLaptop);
    const refused = fayLaptop.frames.find((f) => f.msg_type === 1 && f.code === 1500);
    assert.equal(refused?.conversation, room);
    const failures = await cluster.gateways[1]!.metrics.resumeFailures.get();
    assert.ok((failures.values.find((v) => v.labels.stage === 'catch_up')?.value ?? 0) >= 1);
    await say('m4'); // live while the room cannot be caught up: held back, not delivered over the hole
    failing.delete(room);

    // The SDK resumes the room again by itself (its backoff), from the id it still has.
    await fayLaptop.next((f) => f.conversation === room && f.content === 'm4');
    await say('m5');
    await fayLaptop.next((f) => f.conversation === room && f.content === 'm5');
    const delivered = fayLaptop.frames.filter((f) => f.conversation === room && f.id !== undefined).map((f) => f.content);
    assert.deepEqual(delivered, ['m2', 'm3', 'm4', 'm5']);
    const resumes = fayLaptop.frames.filter((f) => f.msg_type === 1 && f.code === 0 && f.conversation === undefined);
    assert.ok(resumes.length >= 2, 'a second caught-up notice answers the resume of the room alone');
  });
});
