import {
  GROUP_CONVERSATION,
  privateConversation,
  type ChatMessage,
  type ChatSocket,
  type ConversationId,
  type ImClient,
  type RoomEventFrame,
} from '@im/client';
import { describeError } from '../i18n/i18n.ts';
import type { ChatStore, Person } from '../state/chat-store.ts';
import { createConversationSync, type Outgoing } from './conversations.ts';
import type { ChatTransport } from './transport.ts';

/** The server relays one typing notice per user and conversation every 2 s; sending more is waste. */
const TYPING_EVERY_MS = 2_000;

/** `start()` rejects with this when the server does not serve `/api/chat` (index.ts falls back to Part 1). */
export class Part2Unavailable extends Error {
  constructor() {
    super('the server does not serve /api/chat');
  }
}

/**
 * Part 2: one socket per device (`/api/chat`) carries every conversation of the user — messages,
 * typing, read state, room events, peers' presence — and resumes each with the last id seen. The
 * inbox, history pages, uploads and rooms are HTTP (conversations.ts).
 */
export function createPart2Transport(im: ImClient, store: ChatStore): ChatTransport {
  const me = im.user!;
  const outgoing = new Map<string, { id: ConversationId; message: Outgoing }>();
  const typingSent = new Map<ConversationId, number>();
  /** Conversations whose read marks were asked of the server since the socket last came back. */
  const readMarksLoaded = new Set<ConversationId>();
  let welcomedBefore = false;
  let socket: ChatSocket | undefined;
  let stopped = false;
  let inboxReload: ReturnType<typeof setTimeout> | undefined;
  /** Peers whose online state the inbox or a presence notice told. */
  const presenceKnown = new Set<string>();
  const sync = createConversationSync(im, store, () => stopped);
  const onOnline = () => socket?.reconnectNow();

  /** A conversation the list does not have yet (a first private message, a room I was added to). */
  function ensureConversation(message: ChatMessage): void {
    if (store.conversations.value.has(message.conversation)) return;
    if (message.conversation.startsWith('p:')) {
      const sentByPeer = message.user_id !== me.user_id;
      const peer: Person = sentByPeer
        ? { user_id: message.user_id, user_name: message.username, avatar: message.avatar }
        : { user_id: message.target_id!, user_name: message.target_name ?? message.target_id!, avatar: message.target_avatar ?? '' };
      store.conversation(message.conversation, { kind: 'private', peer });
    } else {
      // A room: its name and my role come with the inbox.
      store.conversation(message.conversation, { kind: message.conversation === GROUP_CONVERSATION ? 'group' : 'room' });
      reloadInboxSoon();
    }
  }

  /**
   * Presence notices come when a peer's first socket opens or last one closes: of a peer already
   * online when the private chat began, the inbox (`peer.online`) tells, once.
   */
  function learnPresence(peerId: string | undefined): void {
    if (!peerId || presenceKnown.has(peerId)) return;
    presenceKnown.add(peerId);
    reloadInboxSoon();
  }

  function reloadInboxSoon(): void {
    clearTimeout(inboxReload);
    inboxReload = setTimeout(() => void sync.loadInbox().catch(() => {}), 300);
  }

  function onRoomEvent(frame: RoomEventFrame): void {
    const { conversation: id, room } = frame;
    const aboutMe = frame.user_id === me.user_id;
    if (frame.event === 'member_removed' && aboutMe) return store.forget(id);
    if (!store.conversations.value.has(id)) {
      // Created with me in it, or I was added: the inbox has its name, role and last message.
      if (frame.event === 'created' || (frame.event === 'member_added' && aboutMe)) reloadInboxSoon();
      return;
    }
    const state = store.conversations.value.get(id)!;
    const role = frame.event === 'role_changed' && aboutMe && frame.role ? frame.role : (state.room.value?.role ?? 'member');
    state.room.value = { room_id: room.room_id, name: room.name, member_count: room.member_count, role };
  }

  function connect(): Promise<void> {
    // Resume every conversation from the newest message the inbox showed: what arrives after it
    // (badges, previews) comes on the socket. `group` is delivered only when named here.
    const lastIds: Record<ConversationId, number> = {};
    for (const state of store.conversations.value.values()) {
      lastIds[state.id] = state.messages.value.at(-1)?.id ?? state.lastMessage.value?.id ?? 0;
    }
    const chat = im.chatSocket({ lastIds });
    socket = chat;
    chat.on('message', (message) => {
      ensureConversation(message);
      const state = store.conversations.value.get(message.conversation)!;
      learnPresence(state.peer?.user_id);
      if (state.loaded.value) store.addMessages(message.conversation, [message], true);
      else store.noteUnloaded(state, message);
      if (message.conversation === GROUP_CONVERSATION) store.onlineCount.value = message.online_count;
    });
    chat.on('ack', (clientMsgId, message) => {
      const sent = outgoing.get(clientMsgId);
      outgoing.delete(clientMsgId);
      store.settlePending(sent?.id ?? message.conversation, clientMsgId);
    });
    chat.on('sendFailed', (clientMsgId, error) => {
      const sent = outgoing.get(clientMsgId);
      if (sent) store.settlePending(sent.id, clientMsgId, describeError(error));
    });
    chat.on('typing', (frame) => store.setTyping(frame.conversation, frame.user_id, frame.username));
    chat.on('read', (frame) => {
      if (frame.user_id === me.user_id) store.markedRead(frame.conversation, frame.last_read_id);
      else store.othersRead(frame.conversation, frame.last_read_id);
    });
    chat.on('roomEvent', onRoomEvent);
    chat.on('presence', (frame) => {
      presenceKnown.add(frame.user_id);
      store.setOnline({ user_id: frame.user_id, username: frame.username, avatar: frame.avatar }, frame.msg_type === 2);
    });
    chat.on('welcome', (frame) => {
      if (frame.online_count !== undefined) store.onlineCount.value = frame.online_count;
      // Back after a cut: receipts sent meanwhile were missed everywhere; the one on screen asks now.
      if (!welcomedBefore) welcomedBefore = true;
      else {
        readMarksLoaded.clear();
        loadReadMarks(store.activeId.value);
      }
    });
    chat.on('state', (change) => {
      if (change.state === 'open') store.connection.value = { state: 'open' };
      else if (change.state === 'reconnecting') {
        store.connection.value = { state: 'reconnecting', retryAt: change.delayMs !== undefined ? Date.now() + change.delayMs : undefined };
      } else if (change.state === 'connecting') store.connection.value = { state: 'connecting' };
    });
    chat.on('closed', (change) => {
      if (change.needsLogin && !stopped) im.forgetSession(true);
    });
    return chat.connect();
  }

  /**
   * Whether this server serves `/api/chat`: a browser cannot see why an upgrade failed, so after
   * two failed handshakes ask over HTTP. An API that answers while the upgrade keeps failing has
   * no `/api/chat` (a Part 1 server answers the upgrade 404); a failing API means the server is
   * down, and the socket keeps trying.
   */
  function detectMissingEndpoint(chat: ChatSocket): Promise<never> {
    return new Promise((_resolve, reject) => {
      let failures = 0;
      let welcomed = false;
      chat.on('welcome', () => (welcomed = true));
      chat.on('state', (change) => {
        // Only before the first welcome: later losses are a gateway going away, not a missing endpoint.
        if (change.state !== 'reconnecting' || welcomed) return;
        failures += 1;
        if (failures !== 2) return;
        im.accounts.list({ limit: 1 }).then(
          () => reject(new Part2Unavailable()),
          () => {},
        );
      });
    });
  }

  function send(id: ConversationId, message: Outgoing, clientMsgId?: string): void {
    const sent = socket!.send({ ...message, conversation: id, clientMsgId });
    outgoing.set(sent.clientMsgId, { id, message });
    store.addPending(id, { clientMsgId: sent.clientMsgId, msg_type: message.msg_type, content: message.content, status: 'sending' });
  }

  /**
   * How far the others read (read marks) comes from the server once per conversation opened, and
   * again after a reconnect: read frames sent before the page loaded it, or while the socket was
   * away, were missed. From then on the socket's read frames keep it. A failed call is tried
   * again the next time the conversation is opened.
   */
  function loadReadMarks(id: ConversationId): void {
    if (readMarksLoaded.has(id)) return;
    readMarksLoaded.add(id);
    void sync.loadReadPositions(id).then((answered) => answered || readMarksLoaded.delete(id));
  }

  async function open(id: ConversationId): Promise<void> {
    const state = store.conversations.value.get(id);
    if (!state) return;
    store.open(id);
    try {
      const lastId = await sync.loadFirstPage(state);
      // The socket carries it from here (a no-op for conversations it already follows).
      socket?.follow(id, lastId);
      loadReadMarks(id);
    } catch {
      // Stopped, the session ended, or the room is gone.
    }
  }

  return {
    async start() {
      store.part2.value = true;
      window.addEventListener('online', onOnline);
      store.conversation(GROUP_CONVERSATION, { kind: 'group' });
      await Promise.all([sync.loadInboxUntilDone(), sync.loadMorePeople()]);
      for (const state of store.conversations.value.values()) if (state.peer) presenceKnown.add(state.peer.user_id);
      const connected = connect();
      await Promise.race([connected, detectMissingEndpoint(socket!)]);
      void open(store.activeId.value);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(inboxReload);
      window.removeEventListener('online', onOnline);
      socket?.close();
    },
    open,
    async openPrivate(peer) {
      const id = privateConversation(me.user_id, peer.user_id);
      store.conversation(id, { kind: 'private', peer });
      await open(id);
      return id;
    },
    loadOlder: sync.loadOlder,
    markViewed: (id) => sync.markViewed(id, (conversation, lastId) => socket?.markRead(conversation, lastId)),
    sendText(id, text) {
      send(id, { msg_type: 4, content: text });
    },
    sendFile: (id, file) => sync.sendFile(id, file, send),
    retry(id, clientMsgId) {
      const sent = outgoing.get(clientMsgId);
      if (!sent) return;
      store.settlePending(id, clientMsgId);
      send(id, sent.message, clientMsgId);
    },
    typing(id) {
      const now = Date.now();
      if (now - (typingSent.get(id) ?? 0) < TYPING_EVERY_MS) return;
      // One dropped while reconnecting does not count: the next keystroke tries again.
      if (socket?.typing(id)) typingSent.set(id, now);
    },
    loadMorePeople: sync.loadMorePeople,
    reconnectNow: () => socket?.reconnectNow(),
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
