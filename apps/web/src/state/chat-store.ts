import { batch, computed, signal, type Signal } from '@preact/signals';
import type { ChatMessage, ConversationId, ConversationSummary, RoomRole } from '@im/client';

/**
 * What the chat screens show, fed by a transport (transport/) and read by the UI (ui/). It knows
 * nothing of sockets or endpoints, so both protocol generations fill it the same way.
 */

/** A message sent from this page that the server has not acknowledged yet. */
export interface PendingItem {
  clientMsgId: string;
  msg_type: number;
  content: string;
  status: 'sending' | 'failed';
  error?: string;
}

export interface UploadItem {
  id: number;
  name: string;
  loaded: number;
  total: number;
  error?: string;
}

/** Someone as a conversation shows them (the inbox's peer, a person of the list, a frame's sender). */
export interface Person {
  user_id: string;
  user_name: string;
  avatar: string;
}

export interface RoomInfo {
  room_id: string;
  name: string;
  member_count: number;
  role: RoomRole;
}

export type ConversationKind = 'group' | 'room' | 'private';

export interface ConversationState {
  id: ConversationId;
  kind: ConversationKind;
  /** Private chats: the other person. */
  peer?: Person;
  /** Rooms: name, size, my role (from the inbox, room answers and room events). */
  room: Signal<RoomInfo | undefined>;
  /** In id order, each id once. */
  messages: Signal<ChatMessage[]>;
  pending: Signal<PendingItem[]>;
  uploads: Signal<UploadItem[]>;
  /** History reaches back further than what is loaded. */
  hasOlder: Signal<boolean>;
  loadingOlder: Signal<boolean>;
  /** The first page is in. */
  loaded: Signal<boolean>;
  /** The newest message known (from the inbox or live), for the list's preview and order. */
  lastMessage: Signal<ChatMessage | null>;
  /** Sort key of the list: the newest message's time, or where the inbox put it. */
  activity: Signal<number>;
  /** Messages from others after my read position (the server's count, then live ones). */
  unread: Signal<{ count: number; capped: boolean }>;
  /** My read position (the server's `last_read_id`, moved when I view the conversation). */
  lastReadId: Signal<number>;
  /** The furthest any other member has read (Part 2 read frames). */
  othersReadId: Signal<number>;
  /** Who is typing, until when (ms since epoch). */
  typing: Signal<Map<string, { username: string; until: number }>>;
}

export type ConnectionView =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'reconnecting'; retryAt?: number };

export interface OnlineUser {
  user_id: string;
  username: string;
  avatar: string;
}

/** How long a typing notice shows without a new one (the server relays one every 2 s at most). */
const TYPING_SHOWS_MS = 4_000;

export function createChatStore(selfId: string) {
  const conversations = signal<Map<ConversationId, ConversationState>>(new Map());
  const activeId = signal<ConversationId>('group');
  /** Phone-sized screens show the list or the conversation; wide ones both. */
  const pane = signal<'list' | 'conversation'>('conversation');
  const people = signal<Person[]>([]);
  const peopleTotal = signal(0);
  /** Users known to be online (presence frames, the inbox's `peer.online`). */
  const online = signal<Map<string, OnlineUser>>(new Map());
  const onlineCount = signal(0);
  const connection = signal<ConnectionView>({ state: 'connecting' });
  /** Which protocol generation the server speaks: rooms are live and typing is seen only with Part 2. */
  const part2 = signal(false);
  /** Whether the page is on screen (document visibility): unseen messages are unread. */
  const visible = signal(typeof document === 'undefined' || document.visibilityState === 'visible');

  function conversation(id: ConversationId, init: { kind: ConversationKind; peer?: Person; room?: RoomInfo }): ConversationState {
    const existing = conversations.value.get(id);
    if (existing) {
      if (init.room) existing.room.value = init.room;
      return existing;
    }
    const created: ConversationState = {
      id,
      kind: init.kind,
      peer: init.peer,
      room: signal(init.room),
      messages: signal([]),
      pending: signal([]),
      uploads: signal([]),
      hasOlder: signal(false),
      loadingOlder: signal(false),
      loaded: signal(false),
      lastMessage: signal(null),
      activity: signal(0),
      unread: signal({ count: 0, capped: false }),
      lastReadId: signal(0),
      othersReadId: signal(0),
      typing: signal(new Map()),
    };
    conversations.value = new Map(conversations.value).set(id, created);
    return created;
  }

  /** The conversation is on screen and the page visible: what arrives is read at once. */
  function isViewed(id: ConversationId): boolean {
    return activeId.value === id && pane.value === 'conversation' && visible.value;
  }

  /** Takes the inbox's view of the conversations (the server's unread counts and read positions). */
  function applyInbox(items: ConversationSummary[]): void {
    batch(() => {
      let previousActivity = Date.now();
      for (const item of items) {
        const state = conversation(item.conversation, {
          kind: item.kind,
          peer: item.peer && { user_id: item.peer.user_id, user_name: item.peer.user_name, avatar: item.peer.avatar },
          room: item.room && { room_id: item.room.room_id, name: item.room.name, member_count: item.room.member_count, role: item.room.role },
        });
        if (item.peer?.online) setOnline({ user_id: item.peer.user_id, username: item.peer.user_name, avatar: item.peer.avatar }, true);
        noteLastMessage(state, item.last_message);
        // The inbox is newest first: a conversation without messages keeps its place in it.
        const activity = item.last_message ? Date.parse(item.last_message.date) : previousActivity;
        state.activity.value = Math.max(state.activity.value, activity);
        previousActivity = activity;
        state.lastReadId.value = Math.max(state.lastReadId.value, item.last_read_id);
        if (!isViewed(item.conversation)) state.unread.value = { count: item.unread_count, capped: item.unread_capped ?? false };
      }
    });
  }

  function noteLastMessage(state: ConversationState, message: ChatMessage | null): void {
    if (!message || (state.lastMessage.value && state.lastMessage.value.id >= message.id)) return;
    state.lastMessage.value = message;
    state.activity.value = Math.max(state.activity.value, Date.parse(message.date));
  }

  /** Merges messages from history pages (any order) or live frames; duplicates are ignored. */
  function addMessages(id: ConversationId, incoming: ChatMessage[], live = false): void {
    const state = conversations.value.get(id);
    if (!state || incoming.length === 0) return;
    const byId = new Map(state.messages.value.map((m) => [m.id, m]));
    const added: ChatMessage[] = [];
    for (const message of incoming) {
      if (byId.has(message.id)) continue;
      const stored = { ...message, conversation: id };
      byId.set(message.id, stored);
      added.push(stored);
    }
    if (added.length === 0) return;
    batch(() => {
      state.messages.value = [...byId.values()].sort((a, b) => a.id - b.id);
      for (const message of added) {
        noteLastMessage(state, message);
        if (live) noteLive(state, message);
      }
    });
  }

  /** A live message: unread unless it is mine or read already; whoever sent it stopped typing. */
  function noteLive(state: ConversationState, message: ChatMessage): void {
    // Someone who registered after the list of people was loaded.
    if (message.user_id !== selfId && !people.value.some((p) => p.user_id === message.user_id)) {
      people.value = [...people.value, { user_id: message.user_id, user_name: message.username, avatar: message.avatar }];
    }
    if (state.typing.value.has(message.user_id)) {
      const typing = new Map(state.typing.value);
      typing.delete(message.user_id);
      state.typing.value = typing;
    }
    if (message.user_id === selfId) {
      // Sending counts as having read what came before (docs/protocol-part2.md).
      state.lastReadId.value = Math.max(state.lastReadId.value, message.id);
      state.unread.value = { count: 0, capped: false };
    } else if (message.id > state.lastReadId.value && !isViewed(state.id) && !state.unread.value.capped) {
      const count = state.unread.value.count + 1;
      state.unread.value = count > 99 ? { count: 99, capped: true } : { count, capped: false };
    }
  }

  /** A message found outside a loaded history (a poll, a live frame for a conversation not open). */
  function noteUnloaded(state: ConversationState, message: ChatMessage): void {
    batch(() => {
      noteLastMessage(state, message);
      noteLive(state, message);
    });
  }

  /** My read position moved (here, or on another device of mine). */
  function markedRead(id: ConversationId, lastReadId: number): void {
    const state = conversations.value.get(id);
    if (!state) return;
    batch(() => {
      state.lastReadId.value = Math.max(state.lastReadId.value, lastReadId);
      const newest = state.lastMessage.value?.id ?? 0;
      if (newest <= state.lastReadId.value) state.unread.value = { count: 0, capped: false };
    });
  }

  /** Another member read up to `lastReadId` (a read frame, or the server's answer after a reload). */
  function othersRead(id: ConversationId, lastReadId: number): void {
    const state = conversations.value.get(id);
    if (state) state.othersReadId.value = Math.max(state.othersReadId.value, lastReadId);
  }

  function setTyping(id: ConversationId, userId: string, username: string, now = Date.now()): void {
    const state = conversations.value.get(id);
    if (!state || userId === selfId) return;
    const typing = new Map([...state.typing.value].filter(([, v]) => v.until > now));
    typing.set(userId, { username, until: now + TYPING_SHOWS_MS });
    state.typing.value = typing;
    setTimeout(() => {
      const current = state.typing.value.get(userId);
      if (current && current.until <= Date.now()) {
        const next = new Map(state.typing.value);
        next.delete(userId);
        state.typing.value = next;
      }
    }, TYPING_SHOWS_MS + 50);
  }

  /** A room I am no longer in (left, removed, deleted): it leaves the list. */
  function forget(id: ConversationId): void {
    if (!conversations.value.has(id)) return;
    const next = new Map(conversations.value);
    next.delete(id);
    batch(() => {
      conversations.value = next;
      if (activeId.value === id) activeId.value = 'group';
    });
  }

  function addPending(id: ConversationId, item: PendingItem): void {
    const state = conversations.value.get(id);
    if (state) state.pending.value = [...state.pending.value, item];
  }

  function settlePending(id: ConversationId, clientMsgId: string, failure?: string): void {
    const state = conversations.value.get(id);
    if (!state) return;
    state.pending.value = failure
      ? state.pending.value.map((p) => (p.clientMsgId === clientMsgId ? { ...p, status: 'failed', error: failure } : p))
      : state.pending.value.filter((p) => p.clientMsgId !== clientMsgId);
  }

  function setOnline(user: OnlineUser, isOnline: boolean, count?: number): void {
    if (online.value.has(user.user_id) !== isOnline) {
      const next = new Map(online.value);
      if (isOnline) next.set(user.user_id, user);
      else next.delete(user.user_id);
      online.value = next;
    }
    if (count !== undefined) onlineCount.value = count;
  }

  function open(id: ConversationId): void {
    batch(() => {
      activeId.value = id;
      pane.value = 'conversation';
    });
  }

  const active = computed(() => conversations.value.get(activeId.value));
  /** The conversation list: newest activity first, the group first among equals. */
  const inbox = computed(() =>
    [...conversations.value.values()].sort((a, b) => b.activity.value - a.activity.value || Number(b.kind === 'group') - Number(a.kind === 'group') || (a.id < b.id ? 1 : -1)),
  );

  return {
    selfId,
    conversations,
    activeId,
    active,
    inbox,
    pane,
    people,
    peopleTotal,
    online,
    onlineCount,
    connection,
    part2,
    visible,
    conversation,
    isViewed,
    applyInbox,
    addMessages,
    noteUnloaded,
    markedRead,
    othersRead,
    setTyping,
    forget,
    addPending,
    settlePending,
    setOnline,
    open,
  };
}

export type ChatStore = ReturnType<typeof createChatStore>;
