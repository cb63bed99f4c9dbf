import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import { connectRedis, DEFAULT_REDIS_DEADLINES } from '../src/index.ts';
import { startRedisServer, type TestRedisServer } from '../../../test/support/redis-server.ts';

/**
 * A Redis that stops answering without closing its connections (SIGSTOP: a stalled VM, a swap
 * storm) must fail each command after its deadline, not hold the caller until Redis wakes up.
 * Every assertion below runs while the private Redis is still frozen.
 */
describe('Redis commands have deadlines', () => {
  let server: TestRedisServer;
  let redis: Redis;

  before(async () => {
    server = await startRedisServer();
    redis = await connectRedis(server.url, { name: 'deadline-test' });
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('uses the deadlines settings.yaml documents when the caller passes none', () => {
    const { connect_timeout_ms, command_timeout_ms } = loadConfig({ env: {} }).redis;
    assert.deepEqual(DEFAULT_REDIS_DEADLINES, { connect_timeout_ms, command_timeout_ms });
  });

  it('a command to a frozen Redis fails with a timeout while Redis is still frozen, and works once it thaws', async () => {
    await redis.set('k', 'before');
    await server.pause();
    try {
      await assert.rejects(redis.get('k'), /Command timed out/);
      // Issued together (a pipeline of commands in one write): each gets its answer, a timeout.
      const many = await Promise.allSettled([redis.incr('n'), redis.get('k'), redis.ping()]);
      assert.deepEqual(many.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    } finally {
      await server.resume();
    }
    assert.equal(await redis.get('k'), 'before');
  });

  it('a command issued while Redis is down (waiting for a reconnect) fails with a timeout too', async () => {
    await server.kill();
    try {
      await assert.rejects(redis.get('k'), /Command timed out|Connection is closed|MaxRetriesPerRequest|ECONNREFUSED/);
    } finally {
      await server.restart();
    }
    // Back, empty (no persistence), and the same client reconnected on its own.
    await waitFor(async () => (await redis.ping().catch(() => '')) === 'PONG');
    assert.equal(await redis.get('k'), null);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
