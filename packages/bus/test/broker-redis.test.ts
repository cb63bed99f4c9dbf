import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedisBroker } from '../src/broker-redis.ts';
import { brokerContract } from './broker-contract.ts';
import { Inbox, nextEvent } from './inbox.ts';
import { connectRedis, REDIS_URL } from './redis-clients.ts';
import { startRedisServer } from '../../../test/support/redis-server.ts';

for (const sharded of [false, true]) {
  brokerContract(`redis (sharded: ${sharded})`, async ({ onError }) => {
    const prefix = `test-${randomUUID()}:`;
    const clients = await Promise.all([connectRedis(), connectRedis(), connectRedis(), connectRedis()]);
    const [pubA, subA, pubB, subB] = clients as [Redis, Redis, Redis, Redis];
    const a = createRedisBroker({ pub: pubA, sub: subA, prefix, sharded, onError });
    const b = createRedisBroker({ pub: pubB, sub: subB, prefix, sharded, onError });
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
        await Promise.all(clients.map((client) => client.quit()));
      },
    };
  });
}

for (const sharded of [false, true]) {
  describe(`createRedisBroker (sharded: ${sharded})`, () => {
    let admin: Redis;
    let pub: Redis;
    let sub: Redis;
    let prefix: string;

    before(async () => {
      [admin, pub, sub] = await Promise.all([connectRedis(), connectRedis(), connectRedis()]);
      prefix = `test-${randomUUID()}:`;
    });
    after(async () => {
      await Promise.all([admin.quit(), pub.quit(), sub.quit()]);
    });

    // How many connections Redis has subscribed to the channel.
    const subscribers = async (key: string): Promise<number> => {
      const reply = (await admin.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', key)) as [string, number];
      return Number(reply[1]);
    };

    it('shares one Redis subscription among the handlers of a channel', async () => {
      const broker = createRedisBroker({ pub, sub, prefix, sharded });
      const first = () => {};
      const second = () => {};

      await broker.subscribe('room', first);
      await broker.subscribe('room', second);
      assert.equal(await subscribers(`${prefix}room`), 1);

      await broker.unsubscribe('room', first);
      assert.equal(await subscribers(`${prefix}room`), 1);
      await broker.unsubscribe('room', second);
      assert.equal(await subscribers(`${prefix}room`), 0);
      await broker.close();
    });

    // With autoResubscribe off the broker alone restores; with it on, ioredis resubscribes too.
    for (const autoResubscribe of [true, false]) {
      it(`restores subscriptions after the subscriber connection is killed (autoResubscribe: ${autoResubscribe})`, async () => {
        const ownSub = new Redis(REDIS_URL, { lazyConnect: true, autoResubscribe });
        await ownSub.connect();
        const id = await ownSub.client('ID');
        const broker = createRedisBroker({ pub, sub: ownSub, prefix, sharded });
        const inbox = new Inbox();
        await broker.subscribe('room', inbox.handler);
        await broker.subscribe('other', () => {});
        const resubscribed = nextEvent('onResubscribed', (listener) => broker.onResubscribed(listener));
        const closed = once(ownSub, 'close');

        await admin.client('KILL', 'ID', String(id));
        await closed;
        assert.equal(broker.isHealthy(), false);
        await resubscribed;

        assert.equal(broker.isHealthy(), true);
        assert.equal(await subscribers(`${prefix}room`), 1);
        assert.equal(await subscribers(`${prefix}other`), 1);
        await broker.publish('room', 'after the gap');
        assert.deepEqual((await inbox.until(1)).map(String), ['after the gap']);
        await broker.close();
        await ownSub.quit();
      });
    }

    it('leaves the clients open and drops its subscriptions on close', async () => {
      const listenersBefore = sub.listenerCount(sharded ? 'smessageBuffer' : 'messageBuffer');
      const broker = createRedisBroker({ pub, sub, prefix, sharded });
      await broker.subscribe('closing', () => {});

      await broker.close();

      assert.equal(await subscribers(`${prefix}closing`), 0);
      assert.equal(sub.listenerCount(sharded ? 'smessageBuffer' : 'messageBuffer'), listenersBefore);
      assert.equal(pub.status, 'ready');
      assert.equal(sub.status, 'ready');
      assert.equal(broker.isHealthy(), false);
      await assert.rejects(broker.publish('closing', 'x'), /broker is closed/);
    });
  });
}

describe('createRedisBroker options', () => {
  it('rejects bad options with a clear message', async () => {
    const [pub, sub] = await Promise.all([connectRedis(), connectRedis()]);
    try {
      assert.throws(() => createRedisBroker(undefined as never), /options \{ pub, sub, prefix \} are required/);
      assert.throws(() => createRedisBroker({ pub, sub: pub, prefix: 'p:' }), /must be different connections/);
      assert.throws(() => createRedisBroker({ pub, sub, prefix: 1 as never }), /`prefix` must be a string/);
      assert.throws(() => createRedisBroker({ pub: {} as never, sub, prefix: '' }), /`pub` must be an ioredis client/);
      assert.throws(() => createRedisBroker({ pub, sub, prefix: '', sharded: 'yes' as never }), /`sharded` must be a boolean/);
      assert.throws(() => createRedisBroker({ pub, sub, prefix: '', onError: 1 as never }), /onError must be a function/);
      const neverConnected = new Redis(REDIS_URL, { lazyConnect: true });
      assert.throws(() => createRedisBroker({ pub, sub: neverConnected, prefix: '' }), /`sub` is not connected \(status "wait"\)/);
    } finally {
      await Promise.all([pub.quit(), sub.quit()]);
    }
  });
});

/**
 * A frozen Redis (SIGSTOP) keeps its connections open and says nothing. The broker must notice
 * (isHealthy false: gateways' /readyz answers 503) and, when Redis answers again, confirm its
 * subscriptions and tell the listeners to reload what may have been lost. A private redis-server.
 */
describe('createRedisBroker with a frozen Redis', () => {
  it('is unhealthy while Redis is frozen, then resubscribes and calls onResubscribed once it answers', async () => {
    const server = await startRedisServer();
    const [pub, sub] = [new Redis(server.url, { lazyConnect: true }), new Redis(server.url, { lazyConnect: true })];
    await Promise.all([pub.connect(), sub.connect()]);
    const broker = createRedisBroker({ pub, sub, prefix: 'frozen:', livenessCheckMs: 100, livenessTimeoutMs: 200 });
    try {
      const inbox = new Inbox();
      await broker.subscribe('room', inbox.handler);
      let resubscribed = 0;
      broker.onResubscribed(() => (resubscribed += 1));
      assert.equal(broker.isHealthy(), true);

      await server.pause();
      try {
        await waitUntil(() => !broker.isHealthy());
      } finally {
        await server.resume();
      }
      await waitUntil(() => broker.isHealthy() && resubscribed === 1);
      await pub.publish('frozen:room', 'after');
      await inbox.until(1);
      assert.deepEqual(inbox.texts, ['after']);
    } finally {
      await broker.close();
      pub.disconnect();
      sub.disconnect();
      await server.stop();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
