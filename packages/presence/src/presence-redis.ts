import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { CountTable } from './count-table.ts';
import { Gate } from './gate.ts';
import { addListener, emit, reportToConsole } from './listeners.ts';
import { createRedisOnlineUsers } from './online-users-redis.ts';
import type { Presence, PresenceChange, PresenceResync, UserPresenceChange } from './presence.ts';
import { isUserPresenceRoom, presenceKeys, userPresenceRoom } from './presence-keys.ts';
import {
  addRoomScript,
  connectScript,
  disconnectScript,
  heartbeatScript,
  registerScript,
  syncScript,
} from './presence-scripts.ts';
import { assertRoom, assertUserId } from './validate.ts';

export interface RedisPresenceOptions {
  /** Connected client for commands (not one in subscriber mode); it can be shared. */
  redis: Redis | Cluster;
  /** Prepended to every key, e.g. `im:presence:`. Must not contain `{` or `}`. */
  prefix: string;
  /** Names this gateway in keys; unique among running gateways, e.g. `<host>-<pid>`. */
  gatewayId: string;
  /**
   * How long a gateway that stopped renewing still counts as alive. A dead gateway's users are
   * reported gone at most `leaseMs + heartbeatMs` after its last renewal.
   * @default 10_000
   */
  leaseMs?: number;
  /** How often the lease is renewed and dead gateways are looked for; at most `leaseMs / 2`. @default 3_000 */
  heartbeatMs?: number;
  /** Background failures (heartbeat, reaping) and exceptions thrown by listeners. @default console.error */
  onError?: (err: unknown) => void;
}

/** How long a reaped session's rooms refuse late writes from it (a paused gateway waking up). */
const TOMBSTONE_MS = 10 * 60_000;
/** Dead sessions claimed per heartbeat; the rest wait for the next one. */
const MAX_CLAIMS = 16;
/** Room scripts in flight at once during bulk work. */
const CONCURRENCY = 64;

type SyncResult = PresenceResync[] | 'stale';

export function createRedisPresence(options: RedisPresenceOptions): Presence {
  const { redis, gatewayId, leaseMs, heartbeatMs, onError } = validate(options);
  const keys = presenceKeys(options.prefix);
  // This gateway's own connections: the truth Redis is repaired from.
  const mirror = new CountTable();
  // Rooms where a command failed half-way, so Redis may disagree with the mirror.
  const dirty = new Set<string>();
  const gate = new Gate();
  const reapedListeners = new Set<(event: PresenceChange) => void>();
  const resyncedListeners = new Set<(event: PresenceResync) => void>();
  const userListeners = new Set<(event: UserPresenceChange) => void>();
  const reader = createRedisOnlineUsers({ redis, prefix: options.prefix });
  let state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  let session = '';
  let starting: Promise<void> = Promise.resolve();
  let beat: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const newSession = () => `${gatewayId}#${randomUUID().slice(0, 8)}`;
  const register = (next: string) => registerScript.run(redis, [keys.leases], [next, leaseMs]);

  /** Runs syncScript for one room (see there) and decodes what changed. */
  async function sync(
    room: string,
    target: string,
    want: Array<[string, number]>,
    { stale, tombstoneMs = 0 }: { stale?: string; tombstoneMs?: number } = {},
  ): Promise<SyncResult> {
    const scriptKeys = [keys.users(room), keys.gateway(room, target), keys.tombstone(room, target)];
    if (stale) scriptKeys.push(keys.gateway(room, stale));
    const reply = (await syncScript.run(redis, scriptKeys, [tombstoneMs, ...want.flat()])) as [
      number,
      Array<string | number>?,
    ];
    if (reply[0] === -1) return 'stale';
    const flat = reply[1] ?? [];
    const changes: PresenceResync[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      changes.push({ room, userId: String(flat[i]), online: Number(flat[i + 1]) === 1, onlineCount: reply[0] });
    }
    return changes;
  }

  /** One attempt; 'stale' when this session's lease or entries are gone from Redis. */
  async function tryConnect(room: string, userId: string, trustMirror: boolean) {
    if (state !== 'started') throw new Error(`presence: connect() needs a started presence (it is ${state})`);
    // A room this gateway already has entries in is already listed for reapers.
    const known = trustMirror && mirror.hasRoom(room);
    if (!known) {
      const added = await addRoomScript.run(redis, [keys.leases, keys.roomsOf(session)], [session, room]);
      if (added !== 1) return 'stale' as const;
    }
    let reply: [number, number];
    try {
      reply = (await connectScript.run(
        redis,
        [keys.users(room), keys.gateway(room, session), keys.tombstone(room, session)],
        [userId, known ? '1' : '0'],
      )) as [number, number];
    } catch (err) {
      dirty.add(room);
      throw err;
    }
    if (reply[0] === -1) return 'stale' as const;
    mirror.increment(room, userId);
    return { firstConnection: reply[0] === 1, onlineCount: reply[1] };
  }

  /** Room changes go to room listeners, user-level ones to user listeners only. */
  function emitResynced(change: PresenceResync): void {
    if (isUserPresenceRoom(change.room)) emit(userListeners, { userId: change.userId, online: change.online }, onError);
    else emit(resyncedListeners, change, onError);
  }

  /** connect() for any room, reserved ones included. */
  async function connectIn(room: string, userId: string) {
    if (state !== 'started') throw new Error(`presence: connect() needs a started presence (it is ${state})`);
    // Cheap path first; a stale answer may only mean the room's last user just left here, so
    // retry with the lease check, and only then re-register.
    for (const attempt of ['cheap', 'checked', 'reregistered'] as const) {
      if (attempt === 'reregistered') await gate.runExclusive(reassertIfLost);
      const result = await gate.runShared(() => tryConnect(room, userId, attempt === 'cheap'));
      if (result !== 'stale') return result;
    }
    throw new Error(`presence: gateway ${gatewayId} lost its lease and could not re-register`);
  }

  /** disconnect() for any room, reserved ones included. */
  function disconnectIn(room: string, userId: string) {
    return gate.runShared(async () => {
      if (mirror.decrement(room, userId) === undefined) {
        return { lastConnection: false, onlineCount: await redis.hlen(keys.users(room)) };
      }
      let reply: [number, number];
      try {
        reply = (await disconnectScript.run(redis, [keys.users(room), keys.gateway(room, session)], [userId])) as [number, number];
      } catch (err) {
        dirty.add(room);
        throw err;
      }
      return { lastConnection: reply[0] === 1, onlineCount: reply[1] };
    });
  }

  /**
   * Registers a new session and makes Redis hold exactly the mirror under it, folding away
   * whatever the previous session left (after a Redis restart there is nothing to fold).
   */
  async function reassert(): Promise<void> {
    const previous = session;
    const next = newSession();
    await register(next);
    const mirrored = mirror.roomNames();
    const rooms = new Set([...mirrored, ...dirty, ...(await redis.smembers(keys.roomsOf(previous)))]);
    if (mirrored.length > 0) await redis.sadd(keys.roomsOf(next), ...mirrored);
    await forEachLimited([...rooms], async (room) => {
      const changes = await sync(room, next, mirror.usersOf(room), { stale: previous });
      if (changes === 'stale') throw new Error(`presence: session ${next} was reaped while re-asserting`);
      for (const change of changes) emitResynced(change);
    });
    await redis.del(keys.roomsOf(previous));
    session = next;
    dirty.clear();
  }

  async function reassertIfLost(): Promise<void> {
    if (state !== 'started') return;
    if ((await redis.zscore(keys.leases, session)) === null) await reassert();
  }

  async function repair(): Promise<void> {
    for (const room of [...dirty]) {
      if (state !== 'started') return;
      const changes = await sync(room, session, mirror.usersOf(room));
      // Reaped meanwhile: the next heartbeat re-asserts everything.
      if (changes === 'stale') return;
      dirty.delete(room);
      for (const change of changes) emitResynced(change);
    }
  }

  /** Removes a dead session's entries; the claim in heartbeatScript made this gateway its reaper. */
  async function reap(dead: string): Promise<void> {
    const rooms = await redis.smembers(keys.roomsOf(dead));
    await forEachLimited(rooms, async (room) => {
      const changes = await sync(room, dead, [], { tombstoneMs: TOMBSTONE_MS });
      if (changes === 'stale') return;
      for (const { userId, onlineCount } of changes) {
        if (isUserPresenceRoom(room)) emit(userListeners, { userId, online: false }, onError);
        else emit(reapedListeners, { room, userId, onlineCount }, onError);
      }
    });
    await redis.multi().del(keys.roomsOf(dead)).zrem(keys.reaping, dead).exec();
  }

  async function tick(): Promise<void> {
    const [alive, claimed] = (await heartbeatScript.run(
      redis,
      [keys.leases, keys.reaping],
      [session, leaseMs, MAX_CLAIMS],
    )) as [number, string[]];
    if (alive !== 1) await gate.runExclusive(reassertIfLost);
    else if (dirty.size > 0) await gate.runExclusive(repair);
    for (const dead of claimed) await reap(dead);
  }

  // Paced from the start of each beat so slow reaping does not stretch the renewal interval.
  async function runBeat(): Promise<void> {
    const began = Date.now();
    try {
      await tick();
    } catch (err) {
      if (state === 'started') onError(err);
    }
    if (state !== 'started') return;
    timer = setTimeout(() => {
      beat = runBeat();
    }, Math.max(0, heartbeatMs - (Date.now() - began)));
    timer.unref();
  }

  /** stop(): removes this session's entries and lease; returns who left with them. */
  async function removeOwnEntries(): Promise<PresenceChange[]> {
    const left: PresenceChange[] = [];
    const rooms = new Set([...mirror.roomNames(), ...dirty, ...(await redis.smembers(keys.roomsOf(session)))]);
    await forEachLimited([...rooms], async (room) => {
      const changes = await sync(room, session, []);
      // Reaped meanwhile: the reaper reports these users.
      if (changes === 'stale') return;
      for (const { userId, online, onlineCount } of changes) {
        if (online) continue;
        if (isUserPresenceRoom(room)) emit(userListeners, { userId, online: false }, onError);
        else left.push({ room, userId, onlineCount });
      }
    });
    await redis.multi().del(keys.roomsOf(session)).zrem(keys.leases, session).exec();
    mirror.clear();
    dirty.clear();
    return left;
  }

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
      const { firstConnection } = await connectIn(userPresenceRoom(userId), userId);
      return { firstConnection };
    },

    async disconnectUser(userId) {
      assertUserId(userId);
      const { lastConnection } = await disconnectIn(userPresenceRoom(userId), userId);
      return { lastConnection };
    },

    onlineUsers: (userIds) => reader.onlineUsers(userIds),

    onUserPresence(listener) {
      return addListener(userListeners, listener);
    },

    async onlineCount(room) {
      assertRoom(room);
      return redis.hlen(keys.users(room));
    },

    async isOnline(room, userId) {
      assertRoom(room);
      assertUserId(userId);
      return (await redis.hexists(keys.users(room), userId)) === 1;
    },

    onReaped(listener) {
      return addListener(reapedListeners, listener);
    },

    onResynced(listener) {
      return addListener(resyncedListeners, listener);
    },

    async start() {
      if (state !== 'new') throw new Error(`presence: start() can only be called once (it is ${state})`);
      state = 'starting';
      session = newSession();
      starting = register(session).then(
        () => {
          if (state !== 'starting') return;
          state = 'started';
          // The first beat also reaps gateways that died while no other one was running.
          beat = runBeat();
        },
        (err: unknown) => {
          if (state === 'starting') state = 'new';
          throw err;
        },
      );
      await starting;
    },

    async stop() {
      if (state === 'stopped') return [];
      const previous = state;
      state = 'stopped';
      clearTimeout(timer);
      if (previous === 'new') return [];
      await starting.catch(() => {});
      await beat;
      return gate.runExclusive(removeOwnEntries);
    },
  };

}

async function forEachLimited<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

function validate(options: RedisPresenceOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createRedisPresence: options { redis, prefix, gatewayId } are required');
  }
  const { redis, prefix, gatewayId, leaseMs = 10_000, heartbeatMs = 3_000, onError = reportToConsole } = options;
  if (typeof redis?.evalsha !== 'function') {
    throw new TypeError('createRedisPresence: `redis` must be an ioredis client');
  }
  if (redis.status === 'wait' || redis.status === 'end') {
    throw new Error(
      `createRedisPresence: \`redis\` is not connected (status "${redis.status}"); ` +
        'pass a client that is connected or connecting',
    );
  }
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError('createRedisPresence: `prefix` must be a string without { or } (it may be empty)');
  }
  if (typeof gatewayId !== 'string' || !/^[A-Za-z0-9._:-]+$/.test(gatewayId)) {
    throw new TypeError(
      `createRedisPresence: \`gatewayId\` must be a non-empty string of letters, digits and . _ : -, got ${JSON.stringify(gatewayId)}`,
    );
  }
  if (!Number.isInteger(leaseMs) || leaseMs <= 0) {
    throw new RangeError(`createRedisPresence: \`leaseMs\` must be a positive integer, got ${leaseMs}`);
  }
  if (!Number.isInteger(heartbeatMs) || heartbeatMs <= 0 || heartbeatMs * 2 > leaseMs) {
    throw new RangeError(
      `createRedisPresence: \`heartbeatMs\` must be a positive integer of at most leaseMs / 2 ` +
        `(${leaseMs / 2}), so a lease is renewed at least twice before it runs out; got ${heartbeatMs}`,
    );
  }
  if (typeof onError !== 'function') {
    throw new TypeError('createRedisPresence: `onError` must be a function when given');
  }
  return { redis, gatewayId, leaseMs, heartbeatMs, onError };
}
