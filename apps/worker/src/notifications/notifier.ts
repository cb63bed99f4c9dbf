import type { Queue } from 'bullmq';
import type { Queryable } from '@im/db';
import type { Logger } from '@im/logger';
import { offlineEventId, type OfflineMessage } from './events.ts';
import type { Lease } from './lease.ts';
import type { MessageTail } from './message-tail.ts';
import type { WhoIsOnline } from './who-is-online.ts';
import { addresseesOf, type StoredMessage } from './recipients.ts';

export interface NotifierOptions {
  sql: Queryable;
  tail: MessageTail;
  lease: Lease;
  presence: WhoIsOnline;
  /** Where each (recipient, message) goes: the offline-messages queue. */
  queue: Pick<Queue<OfflineMessage>, 'addBulk'>;
  logger: Logger;
  pollMs: number;
  batchSize: number;
  settleMs: number;
}

export interface Notifier {
  start(): void;
  /** Stops after the pass in flight and gives up the lease. */
  stop(): Promise<void>;
  /**
   * One pass, for tests: takes or renews the lease, reads, queues, moves the cursor. Resolves
   * true when a full batch was read (more may be waiting).
   */
  pass(): Promise<boolean>;
}

/**
 * Tails chat_messages from a cursor kept in MySQL and queues a job per offline recipient of each
 * new message. Because it reads stored rows, a gateway that dies after storing a message still
 * gets it notified, and the jobs' fixed ids make every re-read harmless.
 *
 * Ids are not committed in order: two gateways' transactions may commit id 11 before id 10. So
 * the tail reads ahead of the cursor, remembers what it queued, looks back for late commits, and
 * moves the durable cursor only up to messages older than `settleMs`, whose transaction (and so
 * every one with a smaller id) has surely ended.
 */
export function createNotifier(options: NotifierOptions): Notifier {
  const { tail, lease, logger } = options;
  let cursor: bigint | undefined;
  /** Ids above the cursor already queued. */
  const queued = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function queueMessages(messages: StoredMessage[]): Promise<void> {
    for (const message of messages) {
      if (queued.has(message.id)) continue;
      const { recipients, room } = await addresseesOf(options.sql, message);
      const online = await options.presence.online(message.conversation, recipients.map((r) => r.userId));
      const offline = recipients.filter((r) => !online.has(r.userId));
      if (offline.length > 0) {
        const body = {
          id: message.id,
          conversation: message.conversation,
          user_id: message.senderId,
          username: message.username,
          msg_type: message.msgType,
          content: message.content,
          date: message.date,
          ...(room ? { room } : {}),
        };
        await options.queue.addBulk(
          offline.map((r) => ({
            name: 'offline',
            data: { recipient_id: r.userId, reason: r.reason, message: body },
            opts: { jobId: offlineEventId(message.id, r.userId) },
          })),
        );
      }
      queued.add(message.id);
    }
  }

  async function pass(): Promise<boolean> {
    if (!(await lease.hold())) {
      // Another worker tails; start from the durable cursor if this one takes over later.
      cursor = undefined;
      queued.clear();
      return false;
    }
    cursor ??= await tail.cursor();
    let highest = cursor;
    for (const id of queued) if (BigInt(id) > highest) highest = BigInt(id);
    // Before looking back: every message at or below `settled` has committed or rolled back by now.
    const settled = await tail.settled(cursor, highest, options.settleMs);
    const queuedBelow = [...queued].filter((id) => BigInt(id) <= highest).length;
    if (highest > cursor && (await tail.count(cursor, highest)) !== queuedBelow) {
      await queueMessages(await tail.between(cursor, highest));
    }
    const fresh = await tail.after(highest, options.batchSize);
    await queueMessages(fresh);
    if (settled > cursor) {
      await tail.advance(settled);
      cursor = settled;
      for (const id of queued) if (BigInt(id) <= settled) queued.delete(id);
    }
    return fresh.length === options.batchSize;
  }

  function schedule(delay: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = pass()
        .catch((err: unknown) => {
          logger.warn({ err: { message: (err as Error)?.message } }, 'notifier pass failed; retrying');
          return false;
        })
        .then((more) => {
          running = undefined;
          schedule(more ? 0 : options.pollMs);
        });
    }, delay);
  }

  return {
    start: () => schedule(0),
    pass,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await lease.release().catch(() => {});
    },
  };
}
