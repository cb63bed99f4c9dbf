import { LuaScript } from './lua-script.ts';

// Each script touches keys of one hash tag only, so all of them also run on Redis Cluster.
// Lease times come from the server's TIME, so gateways with skewed clocks still agree.

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: leases. ARGV: session, leaseMs. Starts (or restarts) a lease. */
export const registerScript = new LuaScript(`${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return now
`);

/**
 * KEYS: leases, reaping. ARGV: session, leaseMs, maxClaims.
 * Renews the session's lease if it still exists, and claims sessions whose lease ran out (or
 * whose reaper died): moving them to `reaping` inside this script is what makes one reaper win.
 * Returns { alive 0|1, claimed sessions }.
 */
export const heartbeatScript = new LuaScript(`${NOW_MS}
local lease = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local alive = 0
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  alive = 1
end
local claimed = {}
for _, session in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max)) do
  redis.call('ZREM', KEYS[1], session)
  redis.call('ZADD', KEYS[2], now + lease, session)
  table.insert(claimed, session)
end
for _, session in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)) do
  redis.call('ZADD', KEYS[2], now + lease, session)
  table.insert(claimed, session)
end
return {alive, claimed}
`);

/**
 * KEYS: leases, rooms:<session>. ARGV: session, room.
 * Records that the session has entries in the room, only while its lease exists: a reaper that
 * claimed the session afterwards is then sure to see the room. Returns 1, or 0 when the lease
 * is gone.
 */
export const addRoomScript = new LuaScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`);

/**
 * KEYS: users, gw:<session>, reaped:<session>. ARGV: userId, known ('1' when this gateway
 * already has entries in the room, so its hash must exist).
 * Returns { 1 first connection | 0 | -1 stale session, distinct users }.
 * Stale means the session was reaped here or its entries vanished (Redis restarted): writing
 * anyway would leave entries no lease covers.
 */
export const connectScript = new LuaScript(`
if redis.call('EXISTS', KEYS[3]) == 1 or (ARGV[2] == '1' and redis.call('EXISTS', KEYS[2]) == 0) then
  return {-1, 0}
end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return {total == 1 and 1 or 0, redis.call('HLEN', KEYS[1])}
`);

/**
 * KEYS: users, gw:<session>. ARGV: userId.
 * Returns { 1 last connection | 0, distinct users }. When the session holds no such entry (it
 * was reaped, or Redis restarted) nothing changes and "last" says whether the user is gone.
 */
export const disconnectScript = new LuaScript(`
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if mine <= 0 then
  return {1 - redis.call('HEXISTS', KEYS[1], ARGV[1]), redis.call('HLEN', KEYS[1])}
end
if mine == 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
end
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if total <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return {total <= 0 and 1 or 0, redis.call('HLEN', KEYS[1])}
`);

/**
 * KEYS: users, gw:<session>, reaped:<session>, [gw:<stale session>].
 * ARGV: tombstoneMs, then userId, count pairs: the wanted content of gw:<session>.
 *
 * Makes gw:<session> hold exactly the wanted counts, first folding away the stale session's hash
 * if given, and moves the room's totals by the same amounts. Serves every bulk change:
 * - reaping a dead session: nothing wanted, tombstoneMs > 0 (leaves the tombstone);
 * - stop(): nothing wanted for our own session;
 * - repair / re-assert: our local mirror wanted, maybe folding away our previous session.
 * Returns { distinct users, { userId, 1 now online | 0 now offline, ... } }, or { -1 } when the
 * session is tombstoned (we were reaped: the caller must re-register first).
 */
export const syncScript = new LuaScript(`
local users, gw = KEYS[1], KEYS[2]
local tombstoneMs = tonumber(ARGV[1])
if tombstoneMs == 0 and redis.call('EXISTS', KEYS[3]) == 1 then return {-1} end
local before = {}
local function add(user, n)
  if before[user] == nil then before[user] = tonumber(redis.call('HGET', users, user) or '0') end
  redis.call('HINCRBY', users, user, n)
end
if KEYS[4] then
  local stale = redis.call('HGETALL', KEYS[4])
  for i = 1, #stale, 2 do add(stale[i], -tonumber(stale[i + 1])) end
  redis.call('DEL', KEYS[4])
end
local want = {}
for i = 2, #ARGV, 2 do want[ARGV[i]] = tonumber(ARGV[i + 1]) end
local have = redis.call('HGETALL', gw)
for i = 1, #have, 2 do
  local user, n = have[i], tonumber(have[i + 1])
  local w = want[user] or 0
  want[user] = nil
  if w ~= n then add(user, w - n) end
  if w == 0 then redis.call('HDEL', gw, user) elseif w ~= n then redis.call('HSET', gw, user, w) end
end
for user, w in pairs(want) do
  add(user, w)
  redis.call('HSET', gw, user, w)
end
if tombstoneMs > 0 then redis.call('SET', KEYS[3], '1', 'PX', tombstoneMs) end
local changes = {}
for user, b in pairs(before) do
  local a = tonumber(redis.call('HGET', users, user) or '0')
  if a <= 0 then
    redis.call('HDEL', users, user)
    a = 0
  end
  if b > 0 and a == 0 then
    table.insert(changes, user)
    table.insert(changes, 0)
  elseif b <= 0 and a > 0 then
    table.insert(changes, user)
    table.insert(changes, 1)
  end
end
return {redis.call('HLEN', users), changes}
`);


// Offline notices waiting out their grace (offline-grace.ts): one sorted set, user → when due.

/** KEYS: due. ARGV: userId, graceMs. The user's offline notice is due after the grace (a later leave restarts it). */
export const offlineDueScript = new LuaScript(`${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return now
`);

/** KEYS: due. ARGV: max. Takes the users whose grace ran out: removing them here is what hands each to one gateway. */
export const takeDueScript = new LuaScript(`${NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
`);
