import { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import type { TestCluster } from './cluster.ts';

/** The Redis a cluster's processes use: its env, else this process's env, else settings.yaml. */
export function clusterRedisUrl(cluster: TestCluster): string {
  return loadConfig({ env: { ...process.env, ...cluster.env } }).redis.url;
}

/**
 * Reads the presence keys of one cluster straight from Redis (see packages/presence
 * presence-keys.ts for the layout), so a test can look for ghosts the gateways would not admit.
 */
export class PresenceState {
  readonly redis: Redis;

  static of(cluster: TestCluster): PresenceState {
    return new PresenceState(clusterRedisUrl(cluster), cluster.prefix);
  }

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    // A test reader: fail fast while Redis is down instead of queueing.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 100, 500) });
    this.redis.on('error', () => {});
  }

  /** userId → connections cluster-wide, from `<prefix>{room}:users`. */
  async users(room = 'group'): Promise<Map<string, number>> {
    const hash = await this.redis.hgetall(`${this.prefix}{${room}}:users`);
    return new Map(Object.entries(hash).map(([user, n]) => [user, Number(n)]));
  }

  /** Sessions (`<gatewayId>#<random>`) holding a lease or being reaped. */
  async sessions(): Promise<{ leases: string[]; reaping: string[] }> {
    const [leases, reaping] = await Promise.all([
      this.redis.zrange(`${this.prefix}{gateways}:leases`, '0', '-1'),
      this.redis.zrange(`${this.prefix}{gateways}:reaping`, '0', '-1'),
    ]);
    return { leases, reaping };
  }

  /** Keys under this cluster's prefix that mention `gatewayId`'s sessions (per-room hashes, room lists). */
  async keysOfGateway(gatewayId: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*${gatewayId}#*`, 'COUNT', 1000);
      cursor = next;
      // Tombstones (`reaped:<session>`) are meant to stay for a while after a reap.
      found.push(...keys.filter((key) => !key.includes(':reaped:')));
    } while (cursor !== '0');
    return found;
  }

  close(): void {
    this.redis.disconnect();
  }
}
