import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Redis } from 'ioredis';
import { connectRedis, checkRedisReady, createRedisClient, StartupError, type RedisClient } from '../src/index.ts';
import { startRedisCluster, type TestRedisCluster } from '../../../test/support/redis-cluster.ts';
import { freezeProcess, thawProcess } from '../../../test/support/freeze-process.ts';

/**
 * The one place that builds Redis clients, against a private six-node Redis Cluster: a Cluster
 * from the seed nodes, the deadlines on every node's connection, readiness from CLUSTER INFO.
 */
describe('Redis clients for a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let redis: RedisClient;
  const target = () => ({ url: 'redis://ignored:6379', cluster_nodes: cluster.seeds.slice(0, 2) });

  before(async () => {
    cluster = await startRedisCluster();
    redis = await connectRedis(target(), { name: 'cluster-test', deadlines: { connect_timeout_ms: 1_000, command_timeout_ms: 500 } });
  });
  after(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it('builds a Cluster from cluster_nodes, a plain Redis from a URL', () => {
    assert.ok(redis instanceof Cluster);
    const plain = createRedisClient('redis://127.0.0.1:6379', { name: 'plain' });
    assert.ok(plain instanceof Redis);
    plain.disconnect();
  });

  it('keys of every slot work, and a frozen master costs a command its deadline, not a hang', async () => {
    for (const key of ['a', 'b', 'c', '{group}:users', 'user:{42}']) {
      await redis.set(key, key);
      assert.equal(await redis.get(key), key);
    }
    // The master of {group}'s slot, frozen: its connections stay open and nothing answers.
    const port = Number(await masterPortOf(cluster, '{group}'));
    const node = cluster.nodes.find((n) => n.port === port)!;
    // A key served by another master (looked up before the freeze: any node may answer it).
    let other = '';
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) if (!other && (await masterPortOf(cluster, key)) !== port) other = key;
    await redis.set(other, other);
    await freezeProcess(node.pid!);
    try {
      await assert.rejects(redis.get('{group}:users'), /Command timed out/);
      // Other slots keep answering meanwhile.
      assert.equal(await redis.get(other), other);
    } finally {
      await thawProcess(node.pid!);
    }
    assert.equal(await redis.get('{group}:users'), '{group}:users');
  });

  it('is ready while every master says cluster_state:ok, not while one is gone and not replaced', async () => {
    await checkRedisReady(redis);
    const ready = async () => checkRedisReady(redis).then(() => 'ok', (err: Error) => err.message);
    // Two kills of the same slot's master: the second has no replica left to take over.
    await cluster.killMasterOf('x');
    await cluster.waitHealthy();
    await cluster.killMasterOf('x');
    const deadline = Date.now() + 20_000;
    let answer = await ready();
    while (answer === 'ok' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer = await ready();
    }
    assert.match(answer, /cluster_state:fail/);
  });

  it('fails fast with the seed nodes when no node answers', async () => {
    await assert.rejects(
      connectRedis({ url: 'redis://x:1', cluster_nodes: ['127.0.0.1:1'] }, { name: 'nowhere' }),
      (err: Error) => err instanceof StartupError && /Redis Cluster 127\.0\.0\.1:1/.test(err.message),
    );
  });
});

async function masterPortOf(cluster: TestRedisCluster, key: string): Promise<number> {
  const live = cluster.nodes.find((node) => node.running)!;
  const slot = Number(await cluster.ask(live, 'CLUSTER', 'KEYSLOT', key));
  const slots = (await cluster.ask(live, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
  return Number(slots.find(([first, last]) => slot >= first && slot <= last)![2][1]);
}
