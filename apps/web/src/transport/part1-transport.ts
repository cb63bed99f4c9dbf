import {
  ApiError,
  ErrorCode,
  GROUP_CONVERSATION,
  privateConversation,
  type ChatMessage,
  type ChatSocket,
  type ConversationId,
  type ImClient,
  type StateChange,
} from '@im/client';
import { describeError } from '../i18n/i18n.ts';
import type { ChatStore, Person } from '../state/chat-store.ts';
import { createConversationSync, type Outgoing } from './conversations.ts';
import type { ChatTransport } from './transport.ts';

/** Private chats kept live at once; older ones are closed and resume from history when reopened. */
const MAX_PRIVATE_SOCKETS = 8;
/**
 * How often to look again at what no Part 1 socket carries: the inbox (unread counts, rooms
 * others added me to), private messages from people whose chat is not open, the open room.
 */
const POLL_MS = 10_000;

/**
 * For servers without `/api/chat`: Part 1's sockets (the group room, one per open private chat)
 * carry messages live; the rest is Part 2's HTTP side (conversations.ts), polled. Rooms can be
 * made and managed and read, not written to (only `/api/chat` takes room messages).
 */
export function createPart1Transport(im: ImClient, store: ChatStore): ChatTransport {
  const me = im.user!;
  const sockets = new Map<ConversationId, ChatSocket>();
  const states = new Map<ConversationId, StateChange>();
  /** What each pending message was, to send it again after a failure. */
  const outgoing = new Map<string, Outgoing>();
  let privateCursor: number | undefined;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;
  const sync = createConversationSync(im, store, () => stopped);

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
        void poll();
      });
      socket.on('presence', (frame) => {
        store.setOnline({ user_id: frame.user_id, username: frame.username, avatar: frame.avatar }, frame.msg_type === 2, frame.online_count);
        // Someone who registered after the list was loaded.
        if (frame.msg_type === 2 && !store.people.value.some((p) => p.user_id === frame.user_id)) {
          store.people.value = [...store.people.value, { user_id: frame.user_id, user_name: frame.username, avatar: frame.avatar }];
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

  /** Conversations whose first page is being loaded: a second click does not load it twice. */
  const opening = new Set<ConversationId>();

  async function open(id: ConversationId): Promise<void> {
    const state = store.conversations.value.get(id);
    if (!state) return;
    store.open(id);
    if (sockets.has(id) || opening.has(id)) return;
    opening.add(id);
    try {
      const lastId = await sync.loadFirstPage(state);
      if (stopped || sockets.has(id)) return;
      if (state.kind === 'group') follow(id, im.groupSocket({ lastId }));
      else if (state.kind === 'private') {
        follow(id, im.privateSocket(state.peer!.user_id, { lastId }));
        closeOldPrivateSockets(id);
      }
      if (state.kind !== 'room' || states.size > 0) showConnection();
    } catch {
      // Stopped, the session ended, or the room is gone.
    } finally {
      opening.delete(id);
    }
  }

  async function openPrivate(peer: Person): Promise<ConversationId> {
    const id = privateConversation(me.user_id, peer.user_id);
    store.conversation(id, { kind: 'private', peer });
    await open(id);
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

  function send(id: ConversationId, message: Outgoing, clientMsgId?: string): void {
    const socket = sockets.get(id);
    // Rooms: only /api/chat takes their messages (the composer says so and stays disabled).
    if (!socket) throw new ApiError(ErrorCode.InvalidParameter, 0, `no connection for ${id}`);
    const sent = socket.send({ ...message, clientMsgId });
    outgoing.set(sent.clientMsgId, message);
    store.addPending(id, { clientMsgId: sent.clientMsgId, msg_type: message.msg_type, content: message.content, status: 'sending' });
  }

  /** What no Part 1 socket brings: the inbox, private chats not open, the room on screen. */
  async function poll(): Promise<void> {
    if (stopped) return;
    try {
      await sync.loadInbox();
      await pollPrivate();
      const active = store.active.value;
      if (active?.kind === 'room') await sync.loadNewer(active);
    } catch {
      // Next round (a refused token ends the session through the SDK).
    }
  }

  /**
   * Part 1 delivers a private message live only on a socket open to that peer, and Part 1's
   * gateways do not put new private chats in the inbox, so messages from anyone else are found
   * here, across all peers, with the private history cursor.
   */
  async function pollPrivate(): Promise<void> {
    if (privateCursor === undefined) {
      const newest = await im.history.private({ limit: 1 });
      privateCursor = newest.list[0]?.id ?? 0;
      return;
    }
    for (;;) {
      const page = await im.history.private({ afterId: privateCursor, limit: 100 });
      for (const frame of page.list) {
        privateCursor = Math.max(privateCursor, frame.id);
        const sentByPeer = frame.user_id !== me.user_id;
        const peerId = sentByPeer ? frame.user_id : frame.target_id!;
        const id = privateConversation(me.user_id, peerId);
        if (sockets.has(id)) continue;
        const peer = {
          user_id: peerId,
          user_name: (sentByPeer ? frame.username : frame.target_name) ?? peerId,
          avatar: (sentByPeer ? frame.avatar : frame.target_avatar) ?? '',
        };
        const state = store.conversation(id, { kind: 'private', peer });
        const message = { ...frame, conversation: id } as ChatMessage;
        if (state.loaded.value) store.addMessages(id, [message], true);
        else store.noteUnloaded(state, message);
      }
      if (page.list.length < 100) break;
    }
  }

  function reconnectNow(): void {
    for (const socket of sockets.values()) socket.reconnectNow();
  }

  return {
    async start() {
      store.part2.value = false;
      store.setOnline({ user_id: me.user_id, username: me.user_name, avatar: me.avatar }, true);
      window.addEventListener('online', onOnline);
      pollTimer = setInterval(() => void poll(), POLL_MS);
      store.conversation(GROUP_CONVERSATION, { kind: 'group' });
      await Promise.all([sync.loadInboxUntilDone().catch(() => {}), sync.loadMorePeople()]);
      await open(GROUP_CONVERSATION);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      window.removeEventListener('online', onOnline);
      clearInterval(pollTimer);
      for (const socket of sockets.values()) socket.close();
      sockets.clear();
    },
    open,
    openPrivate,
    loadOlder: sync.loadOlder,
    markViewed: (id) => sync.markViewed(id),
    sendText(id, text) {
      send(id, { msg_type: 4, content: text });
    },
    sendFile: (id, file) => sync.sendFile(id, file, send),
    retry(id, clientMsgId) {
      const message = outgoing.get(clientMsgId);
      if (!message) return;
      store.settlePending(id, clientMsgId);
      send(id, message, clientMsgId);
    },
    typing() {
      // Part 1 has no typing frames.
    },
    loadMorePeople: sync.loadMorePeople,
    reconnectNow,
    async createRoom(name, memberIds) {
      const id = await sync.rooms.create(name, memberIds);
      await open(id);
      return id;
    },
    roomDetails: sync.rooms.details,
    addMembers: sync.rooms.add,
    removeMember: sync.rooms.remove,
    leaveRoom: sync.rooms.leave,
  };
}
