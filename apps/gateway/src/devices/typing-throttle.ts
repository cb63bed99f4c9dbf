import { LRUCache } from 'lru-cache';

/** At most one typing notice relayed per user and conversation every this many ms (the contract's 2 s). */
export const TYPING_INTERVAL_MS = 2_000;

/**
 * Which typing notices are relayed: the first of a user in a conversation, then none for 2 s.
 * Kept per gateway: a user typing on two devices on two gateways at once may be relayed twice.
 */
export class TypingThrottle {
  private readonly recent = new LRUCache<string, true>({ max: 200_000, ttl: TYPING_INTERVAL_MS, ttlAutopurge: false });

  /** True when this notice is relayed (and the next ones for 2 s are not). */
  admit(userId: string, conversation: string): boolean {
    const key = `${userId}\t${conversation}`;
    if (this.recent.has(key)) return false;
    this.recent.set(key, true);
    return true;
  }
}
