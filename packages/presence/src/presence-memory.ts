import { CountTable } from './count-table.ts';
import { addListener, emit, reportToConsole } from './listeners.ts';
import type { Presence, PresenceChange, UserPresenceChange } from './presence.ts';
import { isUserPresenceRoom, userPresenceRoom } from './presence-keys.ts';
import { assertRoom, assertUserId, assertUserIds } from './validate.ts';

/** Stands in for Redis: presences on one hub act as gateways of one cluster. */
export interface MemoryPresenceHub {
  readonly kind: 'memory-presence-hub';
}

// Cluster-wide totals, kept off the hub object so callers cannot reach into them.
const hubTotals = new WeakMap<MemoryPresenceHub, CountTable>();

export function createMemoryPresenceHub(): MemoryPresenceHub {
  const hub: MemoryPresenceHub = Object.freeze({ kind: 'memory-presence-hub' });
  hubTotals.set(hub, new CountTable());
  return hub;
}

export interface MemoryPresenceOptions {
  /** Presences on one hub share who is online. @default a new hub, private to this presence */
  hub?: MemoryPresenceHub;
}

/**
 * Presence for one process (unit tests, single-process mode). Nothing can die without its
 * process, so reaping and resyncing never happen: `onReaped` and `onResynced` never fire, and
 * `onUserPresence` only during `stop()`.
 */
export function createMemoryPresence(options: MemoryPresenceOptions = {}): Presence {
  const totals = hubTotals.get(options.hub ?? createMemoryPresenceHub());
  if (!totals) throw new TypeError('presence: hub must come from createMemoryPresenceHub()');
  const own = new CountTable();
  const userListeners = new Set<(event: UserPresenceChange) => void>();
  let state: 'new' | 'started' | 'stopped' = 'new';

  // Any room, the reserved user-level ones included (see presence-keys.ts).
  const connectIn = (room: string, userId: string) => {
    if (state !== 'started') throw new Error(`presence: connect() needs a started presence (it is ${state})`);
    own.increment(room, userId);
    const total = totals.increment(room, userId);
    return { firstConnection: total === 1, onlineCount: totals.distinctUsers(room) };
  };
  const disconnectIn = (room: string, userId: string) => {
    if (own.decrement(room, userId) === undefined) {
      return { lastConnection: false, onlineCount: totals.distinctUsers(room) };
    }
    const total = totals.subtract(room, userId, 1);
    return { lastConnection: total === 0, onlineCount: totals.distinctUsers(room) };
  };

  return {
    async connect(room, userId) {
      assertRoom(room);
      assertUserId(userId);
      return connectIn(room, userId);
    },

    async disconnect(room, userId) {
      assertRoom(room);
      assertUserId(userId);
      return disconnectIn(room, userId);
    },

    async connectUser(userId) {
      assertUserId(userId);
      return { firstConnection: connectIn(userPresenceRoom(userId), userId).firstConnection };
    },

    async disconnectUser(userId) {
      assertUserId(userId);
      return { lastConnection: disconnectIn(userPresenceRoom(userId), userId).lastConnection };
    },

    async onlineUsers(userIds) {
      assertUserIds(userIds);
      return new Set(userIds.filter((userId) => totals.has(userPresenceRoom(userId), userId)));
    },

    onUserPresence(listener) {
      return addListener(userListeners, listener);
    },

    async onlineCount(room) {
      assertRoom(room);
      return totals.distinctUsers(room);
    },

    async isOnline(room, userId) {
      assertRoom(room);
      assertUserId(userId);
      return totals.has(room, userId);
    },

    onReaped(listener) {
      return addListener(new Set(), listener);
    },

    onResynced(listener) {
      return addListener(new Set(), listener);
    },

    async start() {
      if (state !== 'new') throw new Error(`presence: start() can only be called once (it is ${state})`);
      state = 'started';
    },

    async stop() {
      if (state === 'stopped') return [];
      state = 'stopped';
      const left: PresenceChange[] = [];
      for (const room of own.roomNames()) {
        for (const [userId, count] of own.usersOf(room)) {
          if (totals.subtract(room, userId, count) !== 0) continue;
          if (isUserPresenceRoom(room)) emit(userListeners, { userId, online: false }, reportToConsole);
          else left.push({ room, userId, onlineCount: 0 });
        }
        // Counts are final only once every user of the room is subtracted.
        for (const change of left) if (change.room === room) change.onlineCount = totals.distinctUsers(room);
      }
      own.clear();
      return left;
    },
  };
}
