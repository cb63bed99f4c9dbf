import { LRUCache } from 'lru-cache';
import { ensurePrivateChat, type Queryable } from '@im/db';
import { privateConversation } from '@im/protocol';

/**
 * Makes the two membership rows of a private chat before its messages are stored (what puts it in
 * both inboxes), once per pair per gateway while the pair is remembered: the statement is
 * idempotent, so forgetting a pair only costs it again.
 */
export class PrivateChats {
  private readonly ensured = new LRUCache<string, true>({ max: 100_000 });

  constructor(private readonly sql: Queryable) {}

  async ensure(userA: string, userB: string): Promise<void> {
    const conversation = privateConversation(userA, userB);
    if (this.ensured.has(conversation)) return;
    await ensurePrivateChat(this.sql, userA, userB);
    this.ensured.set(conversation, true);
  }
}
