import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/index.ts';

/** The settings of a deployment on several hosts: a Redis Cluster, a read replica, upstreams elsewhere. */
describe('settings beyond one machine', () => {
  const refused = (env: NodeJS.ProcessEnv, key: RegExp) =>
    assert.throws(() => loadConfig({ env }), (err: Error) => err instanceof ConfigError && key.test(err.message));

  it('reads cluster seed nodes, the replica and the upstreams from the environment', () => {
    const config = loadConfig({
      env: {
        REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000,[fd00::3]:7000',
        REDIS_SHARDED_PUBSUB: '1',
        DATABASE_REPLICA_URL: 'mysql://reader@10.0.0.9:3306/im',
        MYSQL_REPLICA_WAIT_MS: '250',
        API_UPSTREAMS: '10.0.0.5:8090',
        GATEWAY_UPSTREAMS: '10.0.0.5:8101,10.0.0.6:8101',
        INTERNAL_HOST: '10.0.0.5',
        GATEWAY_BASE_PORT: '9100',
      },
    });
    assert.deepEqual(config.redis.cluster_nodes, ['10.0.0.1:7000', '10.0.0.2:7000', '[fd00::3]:7000']);
    assert.equal(config.mysql.replica_url, 'mysql://reader@10.0.0.9:3306/im');
    assert.equal(config.mysql.replica_wait_ms, 250);
    assert.deepEqual(config.front_door, { apis: ['10.0.0.5:8090'], gateways: ['10.0.0.5:8101', '10.0.0.6:8101'] });
    assert.equal(config.system.internal_host, '10.0.0.5');
    assert.equal(config.gateway.base_port, 9100);
  });

  it('defaults to one machine: no cluster, no replica, this host’s own upstreams', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.redis.cluster_nodes, []);
    assert.equal(config.mysql.replica_url, '');
    assert.deepEqual(config.front_door, { apis: [], gateways: [] });
    assert.equal(config.system.internal_host, '127.0.0.1');
  });

  it('refuses a cluster without sharded pub/sub, and addresses without a port, naming the key', () => {
    refused({ REDIS_CLUSTER_NODES: '10.0.0.1:7000' }, /redis\.sharded_pubsub/);
    refused({ REDIS_CLUSTER_NODES: '10.0.0.1', REDIS_SHARDED_PUBSUB: '1' }, /redis\.cluster_nodes/);
    refused({ GATEWAY_UPSTREAMS: '10.0.0.1:99999' }, /front_door\.gateways/);
    refused({ DATABASE_REPLICA_URL: 'postgres://x' }, /mysql\.replica_url/);
  });
});
