import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A standalone server or a Redis Cluster: every package takes either. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: config `redis` (url, cluster_nodes). */
export interface RedisTarget {
  url: string;
  /** Seed nodes `host:port` of a Redis Cluster; empty or absent: `url` is one standalone server. */
  cluster_nodes?: string[];
}

/** Deadlines of a Redis connection: `redis.connect_timeout_ms` and `redis.command_timeout_ms`. */
export interface RedisDeadlines {
  connect_timeout_ms: number;
  /** null: no deadline, for connections that block on purpose (BullMQ's worker). */
  command_timeout_ms: number | null;
}

/**
 * What a caller that passes no deadlines gets: the defaults of config/settings.yaml
 * (packages/runtime/test/deadline-defaults.test.ts holds them equal).
 */
export const DEFAULT_REDIS_DEADLINES: RedisDeadlines = { connect_timeout_ms: 1_000, command_timeout_ms: 1_000 };

/**
 * What a connection is for, which decides its options:
 * - `commands`: request and chat paths; every command has the deadline.
 * - `subscriber`: pub/sub only; waits out reconnects (its subscriptions are restored), and on a
 *   cluster keeps one connection per master for SSUBSCRIBE (ioredis `shardedSubscribers`).
 * - `blocking`: BullMQ's worker; waits out reconnects, and its blocking reads have no deadline.
 */
export type RedisRole = 'commands' | 'subscriber' | 'blocking';

export interface RedisClientOptions {
  /** CLIENT SETNAME of every connection, for `CLIENT LIST` on the servers. */
  name: string;
  /** @default 'commands' */
  role?: RedisRole;
  /** Commands issued in the same tick go out in one write (ioredis auto-pipelining). @default false */
  autoPipelining?: boolean;
  /** @default DEFAULT_REDIS_DEADLINES; a `blocking` connection never has a command deadline. */
  deadlines?: RedisDeadlines;
  /** Overrides what the role decides (tests). */
  maxRetriesPerRequest?: number | null;
}

/** Later drops retry with backoff, forever: a Redis restart does not end the process. */
const reconnectDelay = (times: number) => Math.min(times * 200, 2_000);

/**
 * The one place that builds an ioredis client: a `Redis` for a standalone server, a `Cluster`
 * when `cluster_nodes` lists seed nodes. Not connected yet (`lazyConnect`): connectRedis()
 * connects and fails fast.
 *
 * On a cluster the deadlines apply to each node's connection (ioredis `redisOptions`), and the
 * cluster's own queue of commands waiting for the cluster to be usable is off for `commands`
 * connections: it has no deadline, so a command sent while no node answers fails at once
 * instead of waiting for a reconnect. A command to a master that just died is retried by ioredis
 * on the new master once the slots are refreshed (at most `maxRedirections` × 200 ms).
 */
export function createRedisClient(target: RedisTarget | string, options: RedisClientOptions): RedisClient {
  const { url, cluster_nodes: seeds = [] } = typeof target === 'string' ? { url: target } : target;
  const role = options.role ?? 'commands';
  const deadlines = options.deadlines ?? DEFAULT_REDIS_DEADLINES;
  const commandTimeout = role === 'blocking' ? null : deadlines.command_timeout_ms;
  const maxRetriesPerRequest = options.maxRetriesPerRequest !== undefined ? options.maxRetriesPerRequest : role === 'commands' ? 3 : null;
  const connection: RedisOptions = {
    connectionName: options.name,
    connectTimeout: deadlines.connect_timeout_ms,
    maxRetriesPerRequest,
    ...(commandTimeout === null ? {} : { commandTimeout }),
  };
  if (seeds.length === 0) {
    return new Redis(url, {
      ...connection,
      lazyConnect: true,
      enableAutoPipelining: options.autoPipelining ?? false,
      retryStrategy: reconnectDelay,
    });
  }
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    enableAutoPipelining: options.autoPipelining ?? false,
    shardedSubscribers: role === 'subscriber',
    enableOfflineQueue: role !== 'commands',
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: deadlines.connect_timeout_ms,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    redisOptions: { ...connection, ...credentialsOf(url) },
  };
  return new Cluster(seeds.map(parseHostPort), clusterOptions);
}

/** A cluster's nodes share the password, user name and TLS of `redis.url`. */
function credentialsOf(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function parseHostPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(':');
  return { host: node.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(node.slice(colon + 1)) };
}

function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * Readiness of Redis as a whole (the /readyz checks): a standalone server answers PING; a cluster
 * has at least one master that answers, and every master that answers says `cluster_state:ok`
 * (a master that is down cannot answer; the survivors say `fail` until a replica took over its
 * slots, which is when the cluster can serve every key again). Each call has the client's
 * command deadline.
 */
export async function checkRedisReady(client: RedisClient): Promise<void> {
  if (!isCluster(client)) {
    await client.ping();
    return;
  }
  // A master whose connection ended cannot answer (ioredis drops it from the pool soon after);
  // one not connected yet ('wait': the pool connects lazily) connects for the question.
  const masters = client.nodes('master').filter((node) => node.status !== 'end' && node.status !== 'close');
  if (masters.length === 0) throw new Error('no Redis Cluster master reachable');
  const answers = await Promise.allSettled(masters.map((node) => node.cluster('INFO')));
  let answered = 0;
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'rejected') continue;
    answered += 1;
    const state = /cluster_state:(\w+)/.exec(String(answer.value))?.[1];
    if (state !== 'ok') {
      const node = masters[i]!;
      throw new Error(`Redis Cluster node ${node.options.host}:${node.options.port} says cluster_state:${state ?? 'unknown'}`);
    }
  }
  if (answered === 0) throw new Error('no Redis Cluster master answers');
}
