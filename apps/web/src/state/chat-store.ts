import { batch, computed, signal, type Signal } from '@preact/signals';
import type { ChatMessage, ConversationId, PublicUser } from '@im/client';

/**
 * What the chat screens show, fed by the transport (transport/) and read by the UI (ui/). It
 * knows nothing of sockets or endpoints, so Part 2's transport can fill it the same way.
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

export interface ConversationState {
  id: ConversationId;
  kind: 'group' | 'private';
  /** Private chats: the other person. */
  peer?: PublicUser;
  /** In id order, each id once. */
  messages: Signal<ChatMessage[]>;
  pending: Signal<PendingItem[]>;
  uploads: Signal<UploadItem[]>;
  /** History reaches back further than what is loaded. */
  hasOlder: Signal<boolean>;
  loadingOlder: Signal<boolean>;
  /** The first page is in. */
  loaded: Signal<boolean>;
  /** Something arrived while another conversation was on screen. */
  unseen: Signal<boolean>;
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

export function createChatStore() {
  const conversations = signal<Map<ConversationId, ConversationState>>(new Map());
  const activeId = signal<ConversationId>('group');
  const people = signal<PublicUser[]>([]);
  const peopleTotal = signal(0);
  /** Users seen coming online since this page connected (Part 1 sends joins and leaves only). */
  const online = signal<Map<string, OnlineUser>>(new Map());
  const onlineCount = signal(0);
  const connection = signal<ConnectionView>({ state: 'connecting' });

  function conversation(id: ConversationId, init: { kind: 'group' | 'private'; peer?: PublicUser }): ConversationState {
    const existing = conversations.value.get(id);
    if (existing) return existing;
    const created: ConversationState = {
      id,
      kind: init.kind,
      peer: init.peer,
      messages: signal([]),
      pending: signal([]),
      uploads: signal([]),
      hasOlder: signal(false),
      loadingOlder: signal(false),
      loaded: signal(false),
      unseen: signal(false),
    };
    conversations.value = new Map(conversations.value).set(id, created);
    return created;
  }

  /** Merges messages from history pages (any order) or live frames; duplicates are ignored. */
  function addMessages(id: ConversationId, incoming: ChatMessage[], live = false): void {
    const state = conversations.value.get(id);
    if (!state || incoming.length === 0) return;
    const byId = new Map(state.messages.value.map((m) => [m.id, m]));
    let added = false;
    for (const message of incoming) {
      if (byId.has(message.id)) continue;
      byId.set(message.id, { ...message, conversation: id });
      added = true;
    }
    if (!added) return;
    batch(() => {
      state.messages.value = [...byId.values()].sort((a, b) => a.id - b.id);
      if (live && activeId.value !== id) state.unseen.value = true;
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
    const next = new Map(online.value);
    if (isOnline) next.set(user.user_id, user);
    else next.delete(user.user_id);
    batch(() => {
      online.value = next;
      if (count !== undefined) onlineCount.value = count;
    });
  }

  function open(id: ConversationId): void {
    activeId.value = id;
    const state = conversations.value.get(id);
    if (state) state.unseen.value = false;
  }

  const active = computed(() => conversations.value.get(activeId.value));

  return {
    conversations,
    activeId,
    active,
    people,
    peopleTotal,
    online,
    onlineCount,
    connection,
    conversation,
    addMessages,
    addPending,
    settlePending,
    setOnline,
    open,
  };
}

export type ChatStore = ReturnType<typeof createChatStore>;
