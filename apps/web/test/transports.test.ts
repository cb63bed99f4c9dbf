import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { ChatMessage, ConversationSummary, ImClient as ImClientType } from '@im/client';
import { ContractServer, pair, type StoredMessage } from '../../../packages/client/test/support/contract-server.ts';

/**
 * The app's transports and chat store without a browser: the Part 2 transport on the SDK's
 * socket against the contract server (packages/client/test/support, real sockets), the HTTP side
 * answered by a small fake of the API that reads the same stored messages. The browser test runs
 * the whole app against the real cluster; this one pins what the store shows for each frame.
 */

// What the app's modules read of a browser, before they are imported.
const storage = new Map<string, string>();
Object.assign(globalThis, {
  window: { addEventListener() {}, removeEventListener() {} },
  localStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v), removeItem: (k: string) => storage.delete(k) },
  document: { documentElement: {}, visibilityState: 'visible' },
});
if (!('navigator' in globalThis)) Object.assign(globalThis, { navigator: { language: 'en', languages: ['en'] } });
const { ChatSocket, ImClient, memoryTokenStore, GROUP_CONVERSATION } = await import('@im/client');
const { createChatStore } = await import('../src/state/chat-store.ts');
const { createTransport } = await import('../src/transport/index.ts');

const ME = 'aaaaaaaaa1';
const PEER = 'bbbbbbbbb1';
const PRIVATE = pair(ME, PEER);

function frameOf(m: StoredMessage): ChatMessage {
  return { ...m, avatar: '', online_count: 1 } as ChatMessage;
}

/** The inbox, history and read cursor of the API over the contract server's messages. */
function fakeApi(server: ContractServer) {
  const reads: { conversation: string; last_read_id: number }[] = [];
  /** How far the peer has read, as `GET /api/conversations/<c>/read` answers (503 while `unavailable`). */
  const peer = { readId: 0, unavailable: false, asked: 0 };
  const inbox = (): ConversationSummary[] =>
    [GROUP_CONVERSATION, PRIVATE].map((conversation) => {
      const messages = server.messages.filter((m) => m.conversation === conversation);
      const last = messages.at(-1);
      return {
        conversation,
        kind: conversation === GROUP_CONVERSATION ? 'group' : 'private',
        title: conversation === GROUP_CONVERSATION ? '群聊' : 'peer',
        avatar: '',
        last_message: last ? frameOf(last) : null,
        unread_count: messages.filter((m) => m.user_id !== ME).length,
        unread_capped: false,
        last_read_id: 0,
        ...(conversation === PRIVATE ? { peer: { user_id: PEER, user_name: 'peer', avatar: '', online: true } } : {}),
      };
    });
  const ok = (data: unknown) => new Response(JSON.stringify({ code: 0, data, msg: '成功' }), { status: 200, headers: { 'content-type': 'application/json' } });
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    if (url.pathname === '/api/conversations') return ok({ list: inbox(), next: null });
    if (url.pathname === '/api/users') return ok({ count: 1, list: [{ user_id: PEER, user_name: 'peer', avatar: '', email: '', created_at: '', updated_at: '' }] });
    const [, conversation, what] = /^\/api\/conversations\/([^/]+)\/(messages|read)$/.exec(url.pathname) ?? [];
    if (what === 'messages') {
      const all = server.messages.filter((m) => m.conversation === decodeURIComponent(conversation!));
      return ok({ count: all.length, list: all.slice(-Number(url.searchParams.get('limit') ?? 20)).map(frameOf) });
    }
    if (what === 'read' && init?.method === 'GET') {
      peer.asked += 1;
      if (peer.unavailable) return new Response(JSON.stringify({ code: 1500, data: {}, msg: '服务暂时不可用' }), { status: 503 });
      return ok({ conversation: decodeURIComponent(conversation!), last_read_id: 0, others_read_id: peer.readId });
    }
    if (what === 'read') {
      const body = JSON.parse(String(init?.body)) as { last_read_id: number };
      reads.push({ conversation: decodeURIComponent(conversation!), last_read_id: body.last_read_id });
      return ok({ conversation, last_read_id: body.last_read_id, moved: true });
    }
    return new Response(JSON.stringify({ code: 1005, data: {}, msg: '没有找到' }), { status: 404 });
  };
  return { fetch, reads, peer };
}

function signedIn(server: ContractServer, fetch: (input: string, init?: RequestInit) => Promise<Response>): ImClientType {
  const session = {
    token: server.tokenFor(ME),
    token_type: 'bearer' as const,
    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    user: { user_id: ME, user_name: 'me', avatar: '', email: 'me@example.com', created_at: '', updated_at: '' },
  };
  return new ImClient({ baseUrl: server.url.replace(/^ws/, 'http'), fetch, WebSocket: WebSocket as never, tokenStore: memoryTokenStore(session) });
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the app on a server with /api/chat (Part 2 transport)', { timeout: 30_000 }, () => {
  let server: ContractServer;
  before(async () => {
    server = await ContractServer.start();
  });
  after(() => server.close());

  it('resumes from the inbox, counts unread, sends read frames, shows typing and read marks, and resends across a cut', async () => {
    server.post(GROUP_CONVERSATION, PEER, 'hello group');
    server.post(PRIVATE, PEER, 'hello you');
    const api = fakeApi(server);
    const im = signedIn(server, api.fetch);
    const store = createChatStore(ME);
    const transport = createTransport(im, store);
    await transport.start();
    try {
      assert.equal(store.part2.value, true);
      assert.deepEqual(
        server.handshakes.map((h) => h.path),
        ['/api/chat'],
        'one socket for the device',
      );
      const resume = server.received.find((r) => r.frame.msg_type === 10)!.frame;
      assert.deepEqual(resume.conversations, { group: 1, [PRIVATE]: 2 }, 'every conversation of the inbox from its newest message');

      // The group is on screen: loaded, and viewing it sends a read frame (not an HTTP call).
      const group = store.conversations.value.get(GROUP_CONVERSATION)!;
      await until('the group history', () => group.loaded.value);
      transport.markViewed(GROUP_CONVERSATION);
      await until('a read frame', () => server.received.some((r) => r.frame.msg_type === 9 && r.frame.conversation === GROUP_CONVERSATION));
      assert.equal(group.unread.value.count, 0);
      assert.deepEqual(api.reads, []);

      // A private message while the group is on screen: a badge, and the list's preview.
      const chat = store.conversations.value.get(PRIVATE)!;
      assert.equal(chat.unread.value.count, 1, "the inbox's count");
      server.post(PRIVATE, PEER, 'are you there?');
      await until('the second unread', () => chat.unread.value.count === 2);
      assert.equal(chat.lastMessage.value?.content, 'are you there?');
      assert.equal(store.inbox.value[0]!.id, PRIVATE, 'newest activity first');

      // The peer types and reads on a socket of their own; I type back.
      const peer = new ChatSocket({
        url: server.url,
        endpoint: { kind: 'chat' },
        token: () => server.tokenFor(PEER),
        WebSocket: WebSocket as never,
        selfId: PEER,
        lastIds: { [PRIVATE]: 0 },
      });
      await peer.connect();
      peer.typing(PRIVATE);
      await until('the typing notice', () => chat.typing.value.has(PEER));
      transport.typing(PRIVATE);
      transport.typing(PRIVATE);
      await until('my typing frame', () => server.received.some((r) => r.userId === ME && r.frame.msg_type === 8));
      assert.equal(server.received.filter((r) => r.userId === ME && r.frame.msg_type === 8).length, 1, 'one every 2 s at most');

      // I answer in the private chat; the peer reads it: a read mark for my message.
      await transport.open(PRIVATE);
      assert.equal(chat.unread.value.count, 2, 'opening alone does not read; the screen does (markViewed)');
      transport.markViewed(PRIVATE);
      assert.equal(chat.unread.value.count, 0);
      transport.sendText(PRIVATE, 'yes, here');
      await until('the ack', () => chat.pending.value.length === 0 && chat.messages.value.some((m) => m.content === 'yes, here'));
      const mine = chat.messages.value.find((m) => m.content === 'yes, here')!;
      peer.markRead(PRIVATE, mine.id);
      await until("the peer's read position", () => chat.othersReadId.value === mine.id);

      // The connection is cut: "reconnecting", what I send meanwhile arrives once.
      server.cutAll();
      await until('reconnecting', () => store.connection.value.state === 'reconnecting');
      transport.sendText(PRIVATE, 'sent while cut');
      await until('open again', () => store.connection.value.state === 'open');
      await until('the resend', () => chat.pending.value.length === 0);
      assert.equal(server.messages.filter((m) => m.content === 'sent while cut').length, 1);
      assert.deepEqual(
        chat.messages.value.map((m) => m.content),
        ['hello you', 'are you there?', 'yes, here', 'sent while cut'],
      );
      peer.close();
    } finally {
      transport.stop();
    }
  });

  it("shows how far the peer read before the page loaded and while the socket was away, asking again after a failed call", async () => {
    const mine = [server.post(PRIVATE, ME, 'read before I came'), server.post(PRIVATE, ME, 'read while I was cut off')];
    const api = fakeApi(server);
    api.peer.readId = mine[0]!.id;
    const store = createChatStore(ME);
    const transport = createTransport(signedIn(server, api.fetch), store);
    await transport.start();
    try {
      await transport.open(PRIVATE);
      const chat = store.conversations.value.get(PRIVATE)!;
      await until('the read mark from the server', () => chat.othersReadId.value === mine[0]!.id);
      server.cutAll();
      await until('reconnecting', () => store.connection.value.state === 'reconnecting');
      api.peer.readId = mine[1]!.id;
      await until('the read mark after the reconnect', () => chat.othersReadId.value === mine[1]!.id);

      // The API cannot answer when the conversation is opened: opening it again asks again.
      await transport.open(GROUP_CONVERSATION);
      server.cutAll();
      await until('reconnecting', () => store.connection.value.state === 'reconnecting');
      await until('open again', () => store.connection.value.state === 'open');
      const later = server.post(PRIVATE, ME, 'read while the API was away');
      api.peer.readId = later.id;
      api.peer.unavailable = true;
      const asked = api.peer.asked;
      await transport.open(PRIVATE);
      await until('the call that fails', () => api.peer.asked === asked + 1);
      await new Promise((settled) => setTimeout(settled, 50));
      assert.notEqual(chat.othersReadId.value, later.id);
      api.peer.unavailable = false;
      await transport.open(GROUP_CONVERSATION);
      await transport.open(PRIVATE);
      await until('the read mark once the API answers', () => chat.othersReadId.value === later.id);
    } finally {
      transport.stop();
    }
  });

  it('tries a typing notice again on the next keystroke when one was dropped while reconnecting', async () => {
    const im = signedIn(server, fakeApi(server).fetch);
    const store = createChatStore(ME);
    const transport = createTransport(im, store);
    await transport.start();
    const typingFrames = () => server.received.filter((r) => r.userId === ME && r.frame.msg_type === 8).length;
    try {
      server.cutAll();
      await until('reconnecting', () => store.connection.value.state === 'reconnecting');
      const before = typingFrames();
      transport.typing(PRIVATE);
      await until('open again', () => store.connection.value.state === 'open');
      transport.typing(PRIVATE);
      await until('the typing frame after the reconnect', () => typingFrames() === before + 1);
    } finally {
      transport.stop();
    }
  });
});

describe('the app on a server without /api/chat (Part 1 fallback)', { timeout: 30_000 }, () => {
  let server: ContractServer;
  before(async () => {
    server = await ContractServer.start();
    server.missingPaths.add('/api/chat');
  });
  after(() => server.close());

  it('finds /api/chat refused while the API answers, and chats on the group socket instead', async () => {
    server.post(GROUP_CONVERSATION, PEER, 'hello group');
    const api = fakeApi(server);
    const im = signedIn(server, api.fetch);
    const store = createChatStore(ME);
    const transport = createTransport(im, store);
    await transport.start();
    try {
      assert.equal(store.part2.value, false);
      assert.ok(server.handshakes.filter((h) => h.path === '/api/chat').length >= 2, 'tried /api/chat first');
      await server.waitForSockets(1);
      assert.equal(server.handshakes.at(-1)!.path, '/api/chat_groups');
      assert.equal(server.handshakes.at(-1)!.query.get('last_id'), '1', 'resumes from the history it loaded');
      const group = store.conversations.value.get(GROUP_CONVERSATION)!;
      transport.sendText(GROUP_CONVERSATION, 'on Part 1');
      await until('the ack', () => group.pending.value.length === 0 && group.messages.value.some((m) => m.content === 'on Part 1'));
      // Part 1 moves the read cursor over HTTP.
      server.post(GROUP_CONVERSATION, PEER, 'one more');
      await until('the live message', () => group.messages.value.length === 3);
      transport.markViewed(GROUP_CONVERSATION);
      await until('the read call', () => api.reads.some((r) => r.conversation === GROUP_CONVERSATION && r.last_read_id === 3));
    } finally {
      transport.stop();
    }
  });
});
