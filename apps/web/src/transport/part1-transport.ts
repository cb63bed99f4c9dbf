import {
  ApiError,
  backoffDelay,
  GROUP_CONVERSATION,
  privateConversation,
  type ChatFrame,
  type ChatMessage,
  type ChatSocket,
  type ConversationId,
  type ImClient,
  type PublicUser,
  type StateChange,
} from '@im/client';
import { HISTORY_PAGE } from '../config.ts';
import { describeError } from '../i18n/i18n.ts';
import type { ChatStore, ConversationState } from '../state/chat-store.ts';
import type { ChatTransport } from './transport.ts';

/** Private chats kept live at once; older ones are closed and resume from history when reopened. */
const MAX_PRIVATE_SOCKETS = 8;
/** How often to look for private messages from people whose chat is not open (Part 1 has no inbox). */
const PRIVATE_POLL_MS = 15_000;
const PEOPLE_PAGE = 100;
const IMAGE_TYPES = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp']);

interface Outgoing {
  msg_type: 4 | 5 | 7;
  content: string;
  file?: { name: string };
}

/** Part 1 of the contract: one socket per conversation (see transport.ts). */
export function createPart1Transport(im: ImClient, store: ChatStore): ChatTransport {
  const me = im.user!;
  const sockets = new Map<ConversationId, ChatSocket>();
  const states = new Map<ConversationId, StateChange>();
  /** What each pending message was, to send it again after a failure. */
  const outgoing = new Map<string, Outgoing>();
  let privateCursor: number | undefined;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let peoplePage = 0;
  let stopped = false;

  const onOnline = () => reconnectNow();

  function follow(id: ConversationId, socket: ChatSocket): void {
    sockets.set(id, socket);
    socket.on('message', (message) => {
      store.addMessages(id, [message], true);
      if (id === GROUP_CONVERSATION) store.onlineCount.value = message.online_count;
    });
    socket.on('ack', (clientMsgId) => {
      outgoing.delete(clientMsgId);
      store.settlePending(id, clientMsgId);
    });
    socket.on('sendFailed', (clientMsgId, error) => store.settlePending(id, clientMsgId, describeError(error)));
    if (id === GROUP_CONVERSATION) {
      socket.on('welcome', (frame) => {
        if (frame.online_count !== undefined) store.onlineCount.value = frame.online_count;
        void pollPrivate();
      });
      socket.on('presence', (frame) => {
        store.setOnline({ user_id: frame.user_id, username: frame.username, avatar: frame.avatar }, frame.msg_type === 2, frame.online_count);
        // Someone who registered after the list was loaded.
        if (frame.msg_type === 2 && !store.people.value.some((p) => p.user_id === frame.user_id)) {
          store.people.value = [...store.people.value, personFrom(frame.user_id, frame.username, frame.avatar)];
        }
      });
    }
    socket.on('state', (change) => {
      states.set(id, change);
      showConnection();
    });
    socket.on('closed', (change) => {
      // Logged out elsewhere (4001) or expired (4002): back to the sign-in screen.
      if (change.needsLogin && !stopped) im.forgetSession(true);
    });
    socket.connect().catch(() => {
      // Reported through 'closed'.
    });
  }

  /** One state for the banner: any socket reconnecting shows it; connecting until all are in. */
  function showConnection(): void {
    const all = [...states.values()];
    const reconnecting = all.filter((s) => s.state === 'reconnecting');
    if (reconnecting.length > 0) {
      const delays = reconnecting.map((s) => s.delayMs).filter((d): d is number => d !== undefined);
      store.connection.value = { state: 'reconnecting', retryAt: delays.length ? Date.now() + Math.min(...delays) : undefined };
    } else if (all.some((s) => s.state === 'connecting')) store.connection.value = { state: 'connecting' };
    else store.connection.value = { state: 'open' };
  }

  /**
   * The first page of a conversation, tried until it comes (the server or the network may be
   * down when the app opens); the banner says "reconnecting" meanwhile. A refused token ends the
   * session instead (the SDK reports it).
   */
  async function loadFirstPage(state: ConversationState, load: (limit: number) => Promise<{ list: ChatFrame[] }>): Promise<number> {
    let page: { list: ChatFrame[] } | undefined;
    let attempt = 0;
    for (; !page; attempt += 1) {
      try {
        page = await load(HISTORY_PAGE);
      } catch (err) {
        if (stopped || (err instanceof ApiError && err.needsLogin)) throw err;
        const delayMs = backoffDelay(attempt);
        store.connection.value = { state: 'reconnecting', retryAt: Date.now() + delayMs };
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (stopped) throw err;
      }
    }
    if (attempt > 1) showConnection();
    store.addMessages(state.id, page.list.map((frame) => ({ ...frame, conversation: state.id })));
    state.hasOlder.value = page.list.length === HISTORY_PAGE;
    state.loaded.value = true;
    return page.list.reduce((max, frame) => Math.max(max, frame.id), 0);
  }

  /** Conversations whose first page is being loaded: a second click does not load it twice. */
  const opening = new Set<ConversationId>();

  async function openGroup(): Promise<void> {
    const state = store.conversation(GROUP_CONVERSATION, { kind: 'group' });
    store.open(GROUP_CONVERSATION);
    if (sockets.has(GROUP_CONVERSATION) || opening.has(GROUP_CONVERSATION)) return;
    opening.add(GROUP_CONVERSATION);
    try {
      // The newest id in history is where the socket resumes: nothing sent meanwhile is missed.
      const lastId = await loadFirstPage(state, (limit) => im.history.group({ limit }));
      if (!stopped && !sockets.has(GROUP_CONVERSATION)) follow(GROUP_CONVERSATION, im.groupSocket({ lastId }));
    } catch {
      // Stopped, or the session ended: nothing left to show.
    } finally {
      opening.delete(GROUP_CONVERSATION);
    }
  }

  async function openPrivate(peer: PublicUser): Promise<ConversationId> {
    const id = privateConversation(me.user_id, peer.user_id);
    const state = store.conversation(id, { kind: 'private', peer });
    store.open(id);
    if (sockets.has(id) || opening.has(id)) return id;
    opening.add(id);
    try {
      const lastId = state.loaded.value
        ? (state.messages.value.at(-1)?.id ?? 0)
        : await loadFirstPage(state, (limit) => im.history.private({ targetId: peer.user_id, limit }));
      if (!stopped && !sockets.has(id)) {
        follow(id, im.privateSocket(peer.user_id, { lastId }));
        closeOldPrivateSockets(id);
      }
    } catch {
      // Stopped, or the session ended.
    } finally {
      opening.delete(id);
    }
    return id;
  }

  function closeOldPrivateSockets(keep: ConversationId): void {
    const privates = [...sockets.keys()].filter((id) => id !== GROUP_CONVERSATION && id !== keep);
    while (privates.length >= MAX_PRIVATE_SOCKETS) {
      const id = privates.shift()!;
      const socket = sockets.get(id)!;
      if (socket.pending.length > 0) continue;
      socket.close();
      sockets.delete(id);
      states.delete(id);
    }
  }

  async function loadOlder(id: ConversationId): Promise<void> {
    const state = store.conversations.value.get(id);
    if (!state || state.loadingOlder.value || !state.hasOlder.value) return;
    const oldest = state.messages.value[0]?.id;
    if (oldest === undefined) return;
    state.loadingOlder.value = true;
    try {
      const input = { beforeId: oldest, limit: HISTORY_PAGE };
      const page = state.kind === 'group' ? await im.history.group(input) : await im.history.private({ ...input, targetId: state.peer!.user_id });
      store.addMessages(id, page.list.map((frame) => ({ ...frame, conversation: id })));
      state.hasOlder.value = page.list.length === HISTORY_PAGE;
    } catch {
      // The button stays: scrolling up or pressing it tries again.
    } finally {
      state.loadingOlder.value = false;
    }
  }

  function send(id: ConversationId, message: Outgoing, clientMsgId?: string): void {
    const socket = sockets.get(id);
    if (!socket) throw new Error(`no connection for ${id}`);
    const sent = socket.send({ ...message, clientMsgId });
    outgoing.set(sent.clientMsgId, message);
    store.addPending(id, { clientMsgId: sent.clientMsgId, msg_type: message.msg_type, content: message.content, status: 'sending' });
  }

  async function sendFile(id: ConversationId, file: File): Promise<void> {
    const state = store.conversations.value.get(id);
    if (!state) return;
    const upload = { id: Date.now() + Math.random(), name: file.name, loaded: 0, total: file.size };
    state.uploads.value = [...state.uploads.value, upload];
    const update = (patch: Partial<typeof upload> & { error?: string }) => {
      state.uploads.value = state.uploads.value.map((u) => (u.id === upload.id ? { ...u, ...patch } : u));
    };
    try {
      const uploaded = await im.files.upload(file, {
        targetId: state.peer?.user_id,
        onProgress: ({ loaded, total }) => update({ loaded, total }),
      });
      state.uploads.value = state.uploads.value.filter((u) => u.id !== upload.id);
      send(id, {
        msg_type: IMAGE_TYPES.has(uploaded.file_type) ? 7 : 5,
        content: uploaded.original_name,
        file: { name: uploaded.file_name },
      });
    } catch (err) {
      update({ error: describeError(err) });
      setTimeout(() => (state.uploads.value = state.uploads.value.filter((u) => u.id !== upload.id)), 8_000);
    }
  }

  /**
   * Part 1 delivers a private message live only on a socket open to that peer, so messages from
   * anyone else are found here, across all peers, with the history cursor. Part 2's socket
   * carries every conversation and this goes away.
   */
  async function pollPrivate(): Promise<void> {
    if (stopped) return;
    try {
      if (privateCursor === undefined) {
        const newest = await im.history.private({ limit: 1 });
        privateCursor = newest.list[0]?.id ?? 0;
        return;
      }
      for (;;) {
        const page = await im.history.private({ afterId: privateCursor, limit: 100 });
        for (const frame of page.list) {
          privateCursor = Math.max(privateCursor, frame.id);
          const peerId = frame.user_id === me.user_id ? frame.target_id! : frame.user_id;
          const id = privateConversation(me.user_id, peerId);
          if (sockets.has(id)) continue;
          const peer = store.people.value.find((p) => p.user_id === peerId) ?? placeholderPeer(frame, peerId);
          const state = store.conversation(id, { kind: 'private', peer });
          if (state.loaded.value) store.addMessages(id, [{ ...frame, conversation: id } as ChatMessage], true);
          else state.unseen.value = frame.user_id !== me.user_id;
        }
        if (page.list.length < 100) break;
      }
    } catch (err) {
      if (err instanceof ApiError && err.needsLogin) return;
      // Next round.
    }
  }

  async function loadMorePeople(): Promise<void> {
    let page;
    try {
      page = await im.accounts.list({ limit: PEOPLE_PAGE, page: peoplePage + 1, sort: 'username asc' });
    } catch {
      return; // "More people" stays; people who come online are added from presence anyway.
    }
    peoplePage += 1;
    const known = new Set(store.people.value.map((p) => p.user_id));
    store.people.value = [...store.people.value, ...page.list.filter((p) => !known.has(p.user_id))];
    store.peopleTotal.value = page.count;
  }

  function reconnectNow(): void {
    for (const socket of sockets.values()) socket.reconnectNow();
  }

  return {
    async start() {
      store.setOnline({ user_id: me.user_id, username: me.user_name, avatar: me.avatar }, true);
      window.addEventListener('online', onOnline);
      pollTimer = setInterval(() => void pollPrivate(), PRIVATE_POLL_MS);
      await Promise.all([openGroup(), loadMorePeople()]);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      window.removeEventListener('online', onOnline);
      clearInterval(pollTimer);
      for (const socket of sockets.values()) socket.close();
      sockets.clear();
    },
    openGroup,
    openPrivate,
    loadOlder,
    sendText(id, text) {
      send(id, { msg_type: 4, content: text });
    },
    sendFile,
    retry(id, clientMsgId) {
      const message = outgoing.get(clientMsgId);
      if (!message) return;
      store.settlePending(id, clientMsgId);
      send(id, message, clientMsgId);
    },
    loadMorePeople,
    reconnectNow,
  };
}

/** Someone not on the loaded page of people: what the message says about them. */
function placeholderPeer(frame: ChatFrame, peerId: string): PublicUser {
  const sentByPeer = frame.user_id === peerId;
  return personFrom(peerId, (sentByPeer ? frame.username : frame.target_name) ?? peerId, (sentByPeer ? frame.avatar : frame.target_avatar) ?? '');
}

/** A person known only from a frame (no email or dates: the list of people has those). */
function personFrom(userId: string, username: string, avatar: string): PublicUser {
  return { user_id: userId, user_name: username, avatar, email: '', created_at: '', updated_at: '' };
}
