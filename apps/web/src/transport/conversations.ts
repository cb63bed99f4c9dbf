import { ApiError, backoffDelay, type ChatMessage, type ConversationId, type ImClient, type RoomDetails } from '@im/client';
import { describeError } from '../i18n/i18n.ts';
import type { ChatStore, ConversationState } from '../state/chat-store.ts';

/** Messages per history page (the API allows up to 100). */
const HISTORY_PAGE = 30;
/** Inbox pages read at start (100 conversations each); older ones come as they get activity. */
const INBOX_PAGES = 3;
const PEOPLE_PAGE = 100;
const IMAGE_TYPES = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp']);

export interface Outgoing {
  msg_type: 4 | 5 | 7;
  content: string;
  file?: { name: string };
}

/**
 * The HTTP side of Part 2 that both transports use: the inbox, each conversation's history
 * (frames with signed file links), read cursors, uploads into a conversation, rooms and people.
 * `isStopped` ends retry loops once the transport is stopped.
 */
export function createConversationSync(im: ImClient, store: ChatStore, isStopped: () => boolean) {
  let peoplePage = 0;
  /** Read cursors being sent, per conversation: the newest wins, one request at a time. */
  const reading = new Map<ConversationId, number>();

  async function loadInbox(): Promise<void> {
    let before: string | undefined;
    for (let page = 0; page < INBOX_PAGES; page += 1) {
      const answer = await im.conversations.list({ limit: 100, before });
      store.applyInbox(answer.list);
      if (!answer.next) return;
      before = answer.next;
    }
  }

  /** The inbox, tried until it comes (the server may be down as the app opens); the banner says so. */
  async function loadInboxUntilDone(): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await loadInbox();
        return;
      } catch (err) {
        if (isStopped() || (err instanceof ApiError && err.needsLogin)) throw err;
        await waitBeforeRetry(attempt);
      }
    }
  }

  async function waitBeforeRetry(attempt: number): Promise<void> {
    const delayMs = backoffDelay(attempt);
    store.connection.value = { state: 'reconnecting', retryAt: Date.now() + delayMs };
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }

  /**
   * The first page of a conversation, tried until it comes; returns its newest id (0 if empty),
   * where a socket resumes from so nothing sent meanwhile is missed.
   */
  async function loadFirstPage(state: ConversationState): Promise<number> {
    if (state.loaded.value) return state.messages.value.at(-1)?.id ?? 0;
    let page: { list: ChatMessage[] } | undefined;
    for (let attempt = 0; !page; attempt += 1) {
      try {
        page = await im.conversations.messages(state.id, { limit: HISTORY_PAGE });
      } catch (err) {
        if (isStopped() || (err instanceof ApiError && (err.needsLogin || err.status === 404))) throw err;
        await waitBeforeRetry(attempt);
      }
    }
    store.addMessages(state.id, page.list);
    state.hasOlder.value = page.list.length === HISTORY_PAGE;
    state.loaded.value = true;
    return page.list.at(-1)?.id ?? 0;
  }

  async function loadOlder(id: ConversationId): Promise<void> {
    const state = store.conversations.value.get(id);
    if (!state || state.loadingOlder.value || !state.hasOlder.value) return;
    const oldest = state.messages.value[0]?.id;
    if (oldest === undefined) return;
    state.loadingOlder.value = true;
    try {
      const page = await im.conversations.messages(id, { beforeId: oldest, limit: HISTORY_PAGE });
      store.addMessages(id, page.list);
      state.hasOlder.value = page.list.length === HISTORY_PAGE;
    } catch {
      // The button stays: scrolling up or pressing it tries again.
    } finally {
      state.loadingOlder.value = false;
    }
  }

  /** Messages after the newest loaded one (catching up a conversation no socket carries). */
  async function loadNewer(state: ConversationState): Promise<void> {
    if (!state.loaded.value) return;
    const newest = state.messages.value.at(-1)?.id ?? 0;
    const page = await im.conversations.messages(state.id, { afterId: newest, limit: 100 });
    store.addMessages(state.id, page.list, true);
  }

  /**
   * Moves my read cursor to the newest message on screen, over HTTP (Part 1) or with `viaSocket`
   * (Part 2's read frame). The badge clears at once; the server keeps it for my other devices.
   */
  function markViewed(id: ConversationId, viaSocket?: (id: ConversationId, lastId: number) => void): void {
    const state = store.conversations.value.get(id);
    const newest = state?.messages.value.at(-1)?.id ?? 0;
    if (!state || newest === 0) return;
    const alreadyRead = newest <= state.lastReadId.value;
    store.markedRead(id, newest);
    if (alreadyRead && state.unread.value.count === 0) return;
    if (viaSocket) return viaSocket(id, newest);
    const inFlight = reading.has(id);
    reading.set(id, Math.max(newest, reading.get(id) ?? 0));
    if (!inFlight) void sendRead(id);
  }

  /**
   * How far the others have read a conversation, for its read marks: receipts (read frames) sent
   * while this page was not listening (before it loaded, while reconnecting) were missed. Only a
   * hint, not retried: answers whether the server answered, so the caller can ask again later.
   */
  async function loadReadPositions(id: ConversationId): Promise<boolean> {
    if (store.conversations.value.get(id)?.kind === 'group') return true;
    try {
      const positions = await im.conversations.readPositions(id);
      if (positions.others_read_id !== null) store.othersRead(id, positions.others_read_id);
      return true;
    } catch {
      return false;
    }
  }

  async function sendRead(id: ConversationId): Promise<void> {
    for (let attempt = 0; reading.has(id) && !isStopped(); attempt += 1) {
      const lastId = reading.get(id)!;
      try {
        await im.conversations.markRead(id, lastId);
        if (reading.get(id) === lastId) reading.delete(id);
      } catch (err) {
        // Refused for good (left the room, session over): nothing to keep.
        if (err instanceof ApiError && err.status < 500) return void reading.delete(id);
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt)));
      }
    }
  }

  /** Uploads into the conversation with progress in the store, then `send`s the file message. */
  async function sendFile(id: ConversationId, file: File, send: (id: ConversationId, message: Outgoing) => void): Promise<void> {
    const state = store.conversations.value.get(id);
    if (!state) return;
    const upload = { id: Date.now() + Math.random(), name: file.name, loaded: 0, total: file.size };
    state.uploads.value = [...state.uploads.value, upload];
    const update = (patch: Partial<typeof upload> & { error?: string }) => {
      state.uploads.value = state.uploads.value.map((u) => (u.id === upload.id ? { ...u, ...patch } : u));
    };
    try {
      const uploaded = await im.files.upload(file, { conversation: id, onProgress: ({ loaded, total }) => update({ loaded, total }) });
      state.uploads.value = state.uploads.value.filter((u) => u.id !== upload.id);
      send(id, { msg_type: IMAGE_TYPES.has(uploaded.file_type) ? 7 : 5, content: uploaded.original_name, file: { name: uploaded.file_name } });
    } catch (err) {
      update({ error: describeError(err) });
      setTimeout(() => (state.uploads.value = state.uploads.value.filter((u) => u.id !== upload.id)), 8_000);
    }
  }

  async function loadMorePeople(): Promise<void> {
    let page;
    try {
      page = await im.accounts.list({ limit: PEOPLE_PAGE, page: peoplePage + 1, sort: 'username asc' });
    } catch {
      return; // "More people" stays.
    }
    peoplePage += 1;
    const known = new Set(store.people.value.map((p) => p.user_id));
    store.people.value = [...store.people.value, ...page.list.filter((p) => !known.has(p.user_id))];
    store.peopleTotal.value = page.count;
  }

  function roomIdOf(id: ConversationId): string {
    const state = store.conversations.value.get(id);
    const roomId = state?.room.value?.room_id ?? id.slice(2);
    return roomId;
  }

  const rooms = {
    async create(name: string, memberIds: string[]): Promise<ConversationId> {
      const room = await im.rooms.create({ name, memberIds });
      const state = store.conversation(room.conversation, {
        kind: 'room',
        room: { room_id: room.room_id, name: room.name, member_count: room.member_count, role: room.role ?? 'owner' },
      });
      state.activity.value = Date.parse(room.created_at);
      return room.conversation;
    },
    async details(id: ConversationId): Promise<RoomDetails> {
      const room = await im.rooms.get(roomIdOf(id));
      updateRoom(id, room);
      return room;
    },
    async add(id: ConversationId, userIds: string[]): Promise<void> {
      const result = await im.rooms.addMembers(roomIdOf(id), userIds);
      updateRoom(id, result.room);
    },
    async remove(id: ConversationId, userId: string): Promise<void> {
      const room = await im.rooms.removeMember(roomIdOf(id), userId);
      updateRoom(id, room);
    },
    async leave(id: ConversationId): Promise<void> {
      await im.rooms.leave(roomIdOf(id), store.selfId);
      store.forget(id);
    },
  };

  function updateRoom(id: ConversationId, room: { room_id: string; name: string; member_count: number; role?: RoomDetails['role'] }): void {
    const state = store.conversations.value.get(id);
    const role = room.role ?? state?.room.value?.role;
    if (state && role) state.room.value = { room_id: room.room_id, name: room.name, member_count: room.member_count, role };
  }

  return { loadInbox, loadInboxUntilDone, loadFirstPage, loadOlder, loadNewer, markViewed, loadReadPositions, sendFile, loadMorePeople, rooms, updateRoom };
}

export type ConversationSync = ReturnType<typeof createConversationSync>;
