import { LRUCache } from 'lru-cache';
import { roomMemberCount, type Queryable } from '@im/db';

/**
 * Rooms' member counts, for deciding whether typing and receipts are relayed to every member
 * (small rooms) or not; remembered 10 s, so a busy room costs one query per 10 s per gateway.
 */
export class RoomSizes {
  private readonly cache: LRUCache<string, number>;

  constructor(sql: Queryable) {
    this.cache = new LRUCache<string, number>({
      max: 50_000,
      ttl: 10_000,
      fetchMethod: (roomId) => roomMemberCount(sql, roomId),
    });
  }

  async of(roomId: string): Promise<number> {
    return (await this.cache.fetch(roomId)) ?? 0;
  }
}
