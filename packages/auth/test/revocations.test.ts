import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RevocationLedger } from '@im/db';
import { AppError, ErrorCode } from '@im/protocol';
import { connectRedis } from '@im/runtime';
import { uniquePrefix } from '@im/testing';
import {
  createMemoryRevocationLedger,
  createRedisRevocations,
  revocationChannel,
  startRevocationUpkeep,
  type TokenRevocations,
} from '../src/index.ts';
import { startRedisServer, type TestRedisServer } from '../../../test/support/redis-server.ts';

const inAnHour = () => new Date(Date.now() + 3_600_000);
const unavailable = (err: unknown) => err instanceof AppError && err.code === ErrorCode.ServiceUnavailable;

/**
 * Redis only caches revocations; the ledger (MySQL in production, the memory ledger here: both
 * pass revocation-ledger-contract.ts) is the truth. A lost cache must never turn a revoked token
 * into a good one.
 */
describe('revocations: Redis loses its data', () => {
  let redis: Redis;
  let prefix: string;
  let ledger: RevocationLedger;
  let api: TokenRevocations;
  let gateway: TokenRevocations;

  before(async () => {
    redis = await connectRedis('redis://127.0.0.1:6379', { name: 'revocations-test' });
    prefix = uniquePrefix('revocations');
    ledger = createMemoryRevocationLedger();
    // The API holds the ledger; a gateway today reads the cache only.
    api = createRedisRevocations({ redis, prefix, ledger });
    gateway = createRedisRevocations({ redis, prefix });
    // What the API does at start: load the (empty) ledger, which marks the cache complete.
    const upkeep = startRevocationUpkeep({ redis, prefix, ledger });
    await upkeep.ready;
    upkeep.stop();
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const wipeRedis = () => redis.del(`${prefix}revocations`);

  it('a logged-out token stays revoked after the cache is wiped; the check rebuilds it from the ledger', async () => {
    const revoked = randomUUID();
    const live = randomUUID();
    await api.revoke(revoked, inAnHour());
    assert.equal(await gateway.isRevoked(revoked), true);
    await wipeRedis();

    assert.equal(await api.isRevoked(revoked), true, 'the ledger answers');
    assert.equal(await api.isRevoked(live), false);
    // Rebuilt on the way: the cache alone answers again.
    assert.equal(await gateway.isRevoked(revoked), true);
    assert.equal(await gateway.isRevoked(live), false);
  });

  it('without a ledger, a wiped cache answers 1500 (never "not revoked") until a process with the ledger reloads it', async () => {
    const revoked = randomUUID();
    await api.revoke(revoked, inAnHour());
    await wipeRedis();
    await assert.rejects(gateway.isRevoked(revoked), unavailable);
    await assert.rejects(gateway.isRevoked(randomUUID()), unavailable);

    const upkeep = startRevocationUpkeep({ redis, prefix, ledger });
    await upkeep.ready;
    upkeep.stop();
    assert.equal(await gateway.isRevoked(revoked), true);
  });

  it('the upkeep deletes expired revocations from the cache and the ledger', async () => {
    const expired = randomUUID();
    await api.revoke(expired, new Date(Date.now() + 50));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const swept = new Promise<{ ledger: number; cache: number }>((resolve) => {
      const upkeep = startRevocationUpkeep({
        redis,
        prefix,
        ledger,
        sweepEveryMs: 20,
        onEvent: (event) => {
          if (event.kind !== 'swept') return;
          upkeep.stop();
          resolve(event);
        },
      });
    });
    const { ledger: fromLedger, cache: fromCache } = await swept;
    assert.ok(fromLedger >= 1 && fromCache >= 1, `swept ${fromLedger} from the ledger, ${fromCache} from the cache`);
    assert.equal(await redis.zscore(`${prefix}revocations`, expired), null);
    assert.equal(await gateway.isRevoked(expired), false);
  });
});

/** A private Redis that goes away or freezes while a user logs out. */
describe('revocations: logout while Redis is down or frozen', () => {
  let server: TestRedisServer;
  let redis: Redis;
  let watcher: Redis;
  const prefix = uniquePrefix('revocations-down');
  const ledger = createMemoryRevocationLedger();
  let api: TokenRevocations;
  let gateway: TokenRevocations;
  const published: string[] = [];

  before(async () => {
    server = await startRedisServer();
    redis = await connectRedis(server.url, { name: 'revocations-down' });
    watcher = await connectRedis(server.url, { name: 'revocations-watcher', maxRetriesPerRequest: null, deadlines: { connect_timeout_ms: 1_000, command_timeout_ms: null } });
    api = createRedisRevocations({ redis, prefix, ledger });
    gateway = createRedisRevocations({ redis, prefix });
    await startRevocationUpkeep({ redis, prefix, ledger }).ready;
    watcher.on('message', (_channel: string, jti: string) => published.push(jti));
    await watcher.subscribe(revocationChannel(prefix));
  });
  after(async () => {
    await server?.resume();
    redis?.disconnect();
    watcher?.disconnect();
    await server?.stop();
  });

  it('Redis stopped: the logout succeeds (MySQL has it), checks answer 1500 meanwhile, and a restarted empty Redis learns it', async () => {
    const jti = randomUUID();
    await server.kill();
    const upkeep = startRevocationUpkeep({ redis, prefix, ledger, checkEveryMs: 100 });
    try {
      await api.revoke(jti, inAnHour());
      assert.equal(await ledger.has(jti), true);
      await assert.rejects(gateway.isRevoked(jti), /Command timed out|Connection is closed|MaxRetriesPerRequest/);
      // A process with the ledger asks it instead of failing.
      assert.equal(await api.isRevoked(jti), true);
      assert.equal(await api.isRevoked(randomUUID()), false);
      await server.restart();
      await waitFor(async () => (await gateway.isRevoked(jti).catch(() => false)) === true);
    } finally {
      upkeep.stop();
    }
  });

  it('Redis frozen (data kept): the logout succeeds, and the cache and the gateways get it once Redis thaws', async () => {
    const jti = randomUUID();
    await server.pause();
    try {
      await api.revoke(jti, inAnHour());
      await assert.rejects(gateway.isRevoked(jti), /Command timed out/);
    } finally {
      await server.resume();
    }
    // Nothing reloads a cache that is still complete: only the logout's own repair brings it in.
    await waitFor(async () => (await gateway.isRevoked(jti).catch(() => false)) === true);
    await waitFor(async () => published.includes(jti));
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
