import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Presence, PresenceChange, PresenceResync, UserPresenceChange } from '../src/presence.ts';
import { createRedisOnlineUsers } from '../src/online-users-redis.ts';
import { LuaScript } from '../src/lua-script.ts';
import { presenceKeys } from '../src/presence-keys.ts';
import { createRedisPresence, type RedisPresenceOptions } from '../src/presence-redis.ts';
import { ChildGateway } from './child-gateway.ts';
import { byRoomAndUser, EventLog } from './event-log.ts';
import { presenceContract } from './presence-contract.ts';
import { connectRedis, deleteKeys, REDIS_URL } from './redis-clients.ts';

presenceContract('redis', async () => {
  const prefix = `test-${randomUUID()}:`;
  const clients: Redis[] = [];
  let gateways = 0;
  return {
    async gateway() {
      // One client per gateway, as separate processes would have.
      const redis = await connectRedis();
      clients.push(redis);
      return createRedisPresence({ redis, prefix, gatewayId: `gw-${++gateways}` });
    },
    async close() {
      const admin = await connectRedis();
      await deleteKeys(admin, prefix);
      await Promise.all([admin, ...clients].map((client) => client.quit()));
    },
  };
});

// Short leases so crashes are noticed within a second.
const FAST = { leaseMs: 600, heartbeatMs: 200 };

describe('createRedisPresence', () => {
  let redis: Redis;
  let prefix: string;
  let running: Presence[];
  let children: ChildGateway[];

  const gateway = async (options: Partial<RedisPresenceOptions> & { gatewayId: string }): Promise<Presence> => {
    const presence = createRedisPresence({ redis, prefix, ...FAST, ...options });
    running.push(presence);
    await presence.start();
    return presence;
  };
  const child = async (gatewayId: string, connections: Array<[string, string]>, users: string[] = []): Promise<ChildGateway> => {
    const started = await ChildGateway.start({ prefix, gatewayId, ...FAST, connections, users });
    children.push(started);
    return started;
  };

  before(async () => {
    redis = await connectRedis();
  });
  after(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}:`;
    running = [];
    children = [];
  });
  afterEach(async () => {
    for (const presence of running) await presence.stop().catch(() => {});
    for (const started of children) await started.dispose();
    await deleteKeys(redis, prefix);
  });

  it('reaps a gateway killed with SIGKILL, reporting exactly the users whose last connection it held', async () => {
    const live = await gateway({ gatewayId: 'live' });
    const reaped = new EventLog<PresenceChange>();
    live.onReaped(reaped.push);
    await live.connect('group', 'both');
    await live.connect('p:a:b', 'live-only');
    const doomed = await child('doomed', [
      ['group', 'dead-only'],
      ['group', 'dead-only'],
      ['group', 'both'],
      ['p:a:b', 'dead-too'],
      ['other', 'dead-alone'],
    ]);
    assert.equal(await live.onlineCount('group'), 2);

    const killedAt = Date.now();
    doomed.signal('SIGKILL');
    await reaped.until('three users reaped', (events) => events.length >= 3);
    const elapsed = Date.now() - killedAt;

    assert.deepEqual(byRoomAndUser(reaped.events), [
      { room: 'group', userId: 'dead-only', onlineCount: 1 },
      { room: 'other', userId: 'dead-alone', onlineCount: 0 },
      { room: 'p:a:b', userId: 'dead-too', onlineCount: 1 },
    ]);
    // At most one lease after its last renewal, plus one heartbeat to notice, plus slack for a busy machine.
    assert.ok(elapsed < FAST.leaseMs + FAST.heartbeatMs + 1_500, `reaped after ${elapsed} ms`);
    assert.equal(await live.isOnline('group', 'both'), true);
    assert.equal(await live.onlineCount('p:a:b'), 1);
    assert.deepEqual(await leftoverKeysOf('doomed'), []);
  });

  it('re-asserts a gateway that was paused past its lease and reaped', async () => {
    const live = await gateway({ gatewayId: 'live' });
    const reaped = new EventLog<PresenceChange>();
    live.onReaped(reaped.push);
    await live.connect('group', 'both');
    const zombie = await child('zombie', [
      ['group', 'zombie-only'],
      ['group', 'both'],
    ]);

    zombie.signal('SIGSTOP');
    await reaped.until('the paused gateway reaped', (events) => events.length >= 1);
    assert.deepEqual(reaped.events, [{ room: 'group', userId: 'zombie-only', onlineCount: 1 }]);
    assert.equal(await live.isOnline('group', 'zombie-only'), false);

    zombie.signal('SIGCONT');
    const messages = await zombie.messages.until('the woken gateway to re-assert', (all) =>
      all.some((m) => m.type === 'resynced'),
    );
    assert.deepEqual(
      messages.filter((m) => m.type === 'resynced'),
      [{ type: 'resynced', room: 'group', userId: 'zombie-only', online: true, onlineCount: 2 }],
    );
    assert.equal(await live.onlineCount('group'), 2);

    // Its new registration is covered by a lease like the first: a real crash now leaves no ghost.
    zombie.signal('SIGKILL');
    await reaped.until('the re-registered gateway reaped', (events) => events.length >= 2);
    assert.deepEqual(reaped.events[1], { room: 'group', userId: 'zombie-only', onlineCount: 1 });
    assert.equal(await live.isOnline('group', 'both'), true);
    assert.deepEqual(await leftoverKeysOf('zombie'), []);
  });

  it('re-asserts its connections within a heartbeat after Redis lost every key', async () => {
    const survivor = await gateway({ gatewayId: 'survivor' });
    const resynced = new EventLog<PresenceResync>();
    survivor.onResynced(resynced.push);
    await survivor.connect('group', 'ann');
    await survivor.connect('group', 'ann');
    await survivor.connect('group', 'bob');
    await survivor.connect('p:x:y', 'ann');

    await deleteKeys(redis, prefix);
    const wipedAt = Date.now();
    // Wiped, unless a heartbeat (every 200 ms) already put the entries back: on a busy machine it can.
    const afterWipe = await survivor.onlineCount('group');
    assert.ok(afterWipe === 0 || resynced.events.length > 0, `online right after the wipe: ${afterWipe}, nothing re-asserted`);
    await resynced.until('three users back', (events) => events.length >= 3);
    const elapsed = Date.now() - wipedAt;

    assert.deepEqual(byRoomAndUser(resynced.events), [
      { room: 'group', userId: 'ann', online: true, onlineCount: 2 },
      { room: 'group', userId: 'bob', online: true, onlineCount: 2 },
      { room: 'p:x:y', userId: 'ann', online: true, onlineCount: 1 },
    ]);
    assert.ok(elapsed < FAST.heartbeatMs + 1_000, `re-asserted after ${elapsed} ms`);
    // Both of ann's connections came back, not just her name.
    assert.deepEqual(await survivor.disconnect('group', 'ann'), { lastConnection: false, onlineCount: 2 });
    assert.deepEqual(await survivor.disconnect('group', 'ann'), { lastConnection: true, onlineCount: 1 });
  });

  it('re-registers at once when a connect finds its entries gone', async () => {
    // A heartbeat far away, so only connect() can notice.
    const survivor = await gateway({ gatewayId: 'survivor', leaseMs: 60_000, heartbeatMs: 30_000 });
    const resynced = new EventLog<PresenceResync>();
    survivor.onResynced(resynced.push);
    await survivor.connect('group', 'ann');

    await deleteKeys(redis, prefix);

    assert.deepEqual(await survivor.connect('group', 'bob'), { firstConnection: true, onlineCount: 2 });
    assert.deepEqual(resynced.events, [{ room: 'group', userId: 'ann', online: true, onlineCount: 1 }]);
    await deleteKeys(redis, prefix);
    assert.deepEqual(await survivor.connect('elsewhere', 'carl'), { firstConnection: true, onlineCount: 1 });
    assert.equal(await survivor.onlineCount('group'), 2);
  });

  it('repairs a disconnect that failed on the wire and reports the user gone', async () => {
    const fragile = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    await fragile.connect();
    try {
      const presence = createRedisPresence({ redis: fragile, prefix, gatewayId: 'fragile', ...FAST, onError: () => {} });
      running.push(presence);
      const resynced = new EventLog<PresenceResync>();
      presence.onResynced(resynced.push);
      await presence.start();
      await presence.connect('group', 'ann');

      const closed = once(fragile, 'close');
      fragile.disconnect(true);
      await closed;
      // Without an offline queue, the command fails at once while the client reconnects.
      await assert.rejects(presence.disconnect('group', 'ann'));

      await resynced.until('the repair', (events) => events.length >= 1);
      assert.deepEqual(resynced.events, [{ room: 'group', userId: 'ann', online: false, onlineCount: 0 }]);
      assert.equal(await presence.isOnline('group', 'ann'), false);
      await presence.stop();
    } finally {
      await fragile.quit();
    }
  });

  it('reaps the user-level connections of a gateway killed with SIGKILL, apart from its rooms', async () => {
    const live = await gateway({ gatewayId: 'live' });
    const users = new EventLog<UserPresenceChange>();
    const reaped = new EventLog<PresenceChange>();
    live.onUserPresence(users.push);
    live.onReaped(reaped.push);
    await live.connectUser('both');
    const doomed = await child('doomed', [['group', 'in-group']], ['dead-only', 'dead-only', 'both', 'dead-too']);
    const reader = createRedisOnlineUsers({ redis, prefix });
    assert.deepEqual([...(await reader.onlineUsers(['both', 'dead-only', 'dead-too', 'in-group']))].sort(), ['both', 'dead-only', 'dead-too']);

    doomed.signal('SIGKILL');
    await users.until('two users reaped', (events) => events.length >= 2);
    await reaped.until('the room user reaped', (events) => events.length >= 1);

    assert.deepEqual([...users.events].sort((x, y) => x.userId.localeCompare(y.userId)), [
      { userId: 'dead-only', online: false },
      { userId: 'dead-too', online: false },
    ]);
    assert.deepEqual(reaped.events, [{ room: 'group', userId: 'in-group', onlineCount: 0 }]);
    assert.deepEqual([...(await reader.onlineUsers(['both', 'dead-only', 'dead-too']))], ['both']);
    assert.deepEqual(await leftoverKeysOf('doomed'), []);
  });

  it('re-asserts user-level connections after Redis lost every key', async () => {
    const survivor = await gateway({ gatewayId: 'survivor' });
    const users = new EventLog<UserPresenceChange>();
    const resynced = new EventLog<PresenceResync>();
    survivor.onUserPresence(users.push);
    survivor.onResynced(resynced.push);
    await survivor.connectUser('ann');
    await survivor.connectUser('ann');
    await survivor.connect('group', 'bob');

    await deleteKeys(redis, prefix);
    await users.until('ann back', (events) => events.length >= 1);
    await resynced.until('bob back', (events) => events.length >= 1);

    assert.deepEqual(users.events, [{ userId: 'ann', online: true }]);
    assert.deepEqual(resynced.events, [{ room: 'group', userId: 'bob', online: true, onlineCount: 1 }]);
    // Both of ann's devices came back.
    assert.deepEqual(await survivor.disconnectUser('ann'), { lastConnection: false });
    assert.deepEqual(await survivor.disconnectUser('ann'), { lastConnection: true });
  });

  it('reads online users within its deadline or fails saying so', async () => {
    // A server that accepts connections and never answers: a frozen Redis, without freezing the
    // shared one other test files use.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    // Its handshake never completes, so commands wait in the client's queue as on a frozen server.
    const frozen = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
    frozen.on('error', () => {});
    try {
      const reader = createRedisOnlineUsers({ redis: frozen, prefix, deadlineMs: 200 });
      await assert.rejects(reader.onlineUsers(['ann']), (err: { code?: string }) => err.code === 'ETIMEDOUT');
    } finally {
      frozen.disconnect();
      silent.close();
    }
    assert.throws(() => createRedisOnlineUsers({ redis, prefix: 'a{b}' }), /without \{ or \}/);
  });

  it('dates leases by the Redis server clock', async () => {
    const presence = await gateway({ gatewayId: 'timed', leaseMs: 60_000, heartbeatMs: 1_000 });
    await presence.connect('group', 'ann');
    const [seconds] = await redis.time();
    const { leases } = presenceKeys(prefix);
    const sessions = await redis.zrange(leases, 0, '-1');

    assert.equal(sessions.length, 1);
    assert.match(sessions[0] as string, /^timed#/);
    const expiresInMs = Number(await redis.zscore(leases, sessions[0] as string)) - Number(seconds) * 1000;
    assert.ok(expiresInMs > 55_000 && expiresInMs <= 61_000, `lease expires in ${expiresInMs} ms`);
  });

  it('runs a script Redis has not cached yet (first use, or after a restart)', async () => {
    const marker = randomUUID();
    const script = new LuaScript(`return {KEYS[1], ARGV[1], '${marker}'}`);

    assert.deepEqual(await script.run(redis, [`${prefix}k`], ['a']), [`${prefix}k`, 'a', marker]);
    assert.deepEqual(await script.run(redis, [`${prefix}k`], ['b']), [`${prefix}k`, 'b', marker]);
  });

  it('rejects bad options with a clear message', () => {
    const base = { redis, prefix: 'p:', gatewayId: 'gw-1' };
    assert.throws(() => createRedisPresence(undefined as never), /options \{ redis, prefix, gatewayId \} are required/);
    assert.throws(() => createRedisPresence({ ...base, redis: {} as never }), /`redis` must be an ioredis client/);
    assert.throws(() => createRedisPresence({ ...base, prefix: 'a{b}' }), /`prefix` must be a string without \{ or \}/);
    assert.throws(() => createRedisPresence({ ...base, gatewayId: '' }), /`gatewayId` must be a non-empty string/);
    assert.throws(() => createRedisPresence({ ...base, gatewayId: 'a b' }), /`gatewayId` must be/);
    assert.throws(() => createRedisPresence({ ...base, leaseMs: 0 }), /`leaseMs` must be a positive integer/);
    assert.throws(() => createRedisPresence({ ...base, heartbeatMs: 6_000 }), /`heartbeatMs` must be .* at most leaseMs \/ 2/);
    assert.throws(() => createRedisPresence({ ...base, onError: 'log' as never }), /`onError` must be a function/);
  });

  /** Keys a dead gateway left, apart from the tombstones meant to outlive it. */
  async function leftoverKeysOf(gatewayId: string): Promise<string[]> {
    const keys = await redis.keys(`${prefix}*`);
    const { leases, reaping } = presenceKeys(prefix);
    const members = [
      ...(await redis.zrange(leases, 0, '-1')),
      ...(await redis.zrange(reaping, 0, '-1')),
    ];
    return [
      ...keys.filter((key) => key.includes(`${gatewayId}#`) && !key.includes(':reaped:')),
      ...members.filter((member) => member.startsWith(`${gatewayId}#`)),
    ];
  }
});
