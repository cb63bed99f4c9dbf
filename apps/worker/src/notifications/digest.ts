import { DelayedError, Queue, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { SqlRunner } from '@im/db';
import { queuePrefix, type MailQueue } from '@im/jobs';
import type { Logger } from '@im/logger';
import { digestMail, type DigestLine, type MailLanguage } from './digest-mail.ts';
import { utcIso } from './message-tail.ts';
import type { OutcomeListener } from './webhook-queues.ts';

export const DIGEST_QUEUE = 'digest';

export interface DigestSettings {
  interval_seconds: number;
  collect_seconds: number;
  max_messages: number;
}

/**
 * One job per user and digest: `key` is the user's `last_digest_at` when it was queued (empty
 * before the first), so every message that arrives between two digests lands in the same job.
 */
interface DigestJob {
  userId: string;
  key: string;
}

export interface DigestOptions {
  sql: SqlRunner;
  /** The producer side (may share any client). */
  connection: Redis | Cluster;
  prefix: string;
  settings: DigestSettings;
  retentionSeconds: number;
}

/**
 * Digest mail of the messages a user received while offline, for users who opted in.
 *
 * At most one per `interval_seconds`: a digest claims its slot with a compare-and-set of
 * `last_digest_at` from the key its job was made with, so two jobs (or two workers) can never
 * both send for one slot. A message whose entry is written while a digest is being sent finds
 * either the old key (and the digest sees its entry after claiming) or the new one (and queues
 * the next digest): entry first, key second, on both sides.
 */
export function createDigests(options: DigestOptions) {
  const { sql, settings } = options;
  const queue = new Queue<DigestJob>(DIGEST_QUEUE, {
    connection: options.connection,
    prefix: queuePrefix(options.prefix, options.connection),
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: options.retentionSeconds }, removeOnFail: { age: options.retentionSeconds } },
  });
  queue.on('error', () => {});

  async function schedule(userId: string, key: string): Promise<void> {
    const due = key === '' ? Date.now() : Date.parse(utcIso(key)) + settings.interval_seconds * 1000;
    const delay = Math.max(settings.collect_seconds * 1000, due - Date.now());
    await queue.add('digest', { userId, key }, { jobId: `digest-${userId}-${key.replace(/\D/g, '') || '0'}`, delay });
  }

  async function lastDigestKey(userId: string): Promise<{ key: string; enabled: boolean; language: MailLanguage; email: string } | undefined> {
    const [row] = await sql.query<Array<{ last_digest_at: string | null; digest_enabled: number; language: MailLanguage; email: string }>>(
      `SELECT s.last_digest_at, s.digest_enabled, s.language, u.email
       FROM notification_settings s JOIN users u ON u.user_id = s.user_id WHERE s.user_id = ?`,
      [userId],
    );
    return row ? { key: row.last_digest_at ?? '', enabled: Boolean(row.digest_enabled), language: row.language, email: row.email } : undefined;
  }

  return {
    /** Adds a message to the user's next digest if they opted in; says whether it did. */
    async add(userId: string, messageId: string): Promise<boolean> {
      const result = await sql.query<{ affectedRows: number }>(
        `INSERT IGNORE INTO digest_entries (user_id, message_id, created_at)
         SELECT user_id, ?, UTC_TIMESTAMP(3) FROM notification_settings WHERE user_id = ? AND digest_enabled`,
        [messageId, userId],
      );
      const state = await lastDigestKey(userId);
      if (!state?.enabled) return false;
      await schedule(userId, state.key);
      return result.affectedRows > 0;
    },

    /** Sends the digests as they fall due. */
    worker(worker: { connection: Redis | Cluster; mail: MailQueue; logger: Logger; onOutcome?: OutcomeListener }): Worker<DigestJob> {
      const { logger, onOutcome = () => {} } = worker;
      const consumer = new Worker<DigestJob>(
        DIGEST_QUEUE,
        async (job, token) => {
          const { userId, key } = job.data;
          const state = await lastDigestKey(userId);
          if (!state?.enabled) return;
          if (state.key !== key) {
            // A digest went out since this job was queued; whatever is left waits for the next.
            if (await hasEntries(userId)) await schedule(userId, state.key);
            return;
          }
          const due = key === '' ? 0 : Date.parse(utcIso(key)) + settings.interval_seconds * 1000;
          if (Date.now() < due) {
            await job.moveToDelayed(due, token);
            throw new DelayedError();
          }
          const { lines, total, maxId } = await entries(userId);
          if (total === 0) return;
          await worker.mail.enqueue(digestMail(state.email, state.language, lines, total), { jobId: `digest-mail-${job.id}` });
          const claimed = await sql.transaction(async (tx) => {
            const claim = await tx.query<{ affectedRows: number }>(
              `UPDATE notification_settings SET last_digest_at = UTC_TIMESTAMP(3)
               WHERE user_id = ? AND ${key === '' ? 'last_digest_at IS NULL' : 'last_digest_at = ?'}`,
              key === '' ? [userId] : [userId, key],
            );
            if (claim.affectedRows !== 1) return false;
            await tx.query('DELETE FROM digest_entries WHERE user_id = ? AND message_id <= ?', [userId, maxId]);
            return true;
          });
          if (!claimed) return;
          logger.info({ userId, messages: total, jobId: job.id }, 'digest mail queued');
          onOutcome('digest', 'delivered');
          if (await hasEntries(userId)) {
            const next = await lastDigestKey(userId);
            if (next) await schedule(userId, next.key);
          }
        },
        { connection: worker.connection, prefix: queuePrefix(options.prefix, options.connection), concurrency: 4 },
      );
      consumer.on('failed', (job, err) => {
        if (err instanceof DelayedError || job === undefined) return;
        const final = job.attemptsMade >= (job.opts.attempts ?? 1);
        logger[final ? 'error' : 'warn']({ jobId: job.id, err: { message: err.message } }, 'digest not sent');
        onOutcome('digest', final ? 'failed' : 'retried');
      });
      consumer.on('error', (err) => logger.error({ err: { message: err.message } }, 'digest worker error'));
      return consumer;
    },

    close: () => queue.close(),
  };

  async function hasEntries(userId: string): Promise<boolean> {
    return (await sql.query<unknown[]>('SELECT 1 FROM digest_entries WHERE user_id = ? LIMIT 1', [userId])).length > 0;
  }

  async function entries(userId: string): Promise<{ lines: DigestLine[]; total: number; maxId: string }> {
    const [summary] = await sql.query<Array<{ total: bigint | number; max_id: bigint | number | null }>>(
      'SELECT COUNT(*) AS total, MAX(message_id) AS max_id FROM digest_entries WHERE user_id = ?',
      [userId],
    );
    const rows = await sql.query<Array<{ username: string; room: string | null; conversation: string; msg_type: number; content: string; created_at: string }>>(
      `SELECT u.username, r.name AS room, m.conversation, m.msg_type, m.content, m.created_at
       FROM digest_entries e
       JOIN chat_messages m ON m.id = e.message_id
       JOIN users u ON u.user_id = m.sender_id
       LEFT JOIN rooms r ON m.conversation LIKE 'r:%' AND r.room_id = SUBSTRING(m.conversation, 3)
       WHERE e.user_id = ? ORDER BY e.message_id LIMIT ?`,
      [userId, settings.max_messages],
    );
    return {
      total: Number(summary?.total ?? 0),
      maxId: String(summary?.max_id ?? 0),
      lines: rows.map((row) => ({
        username: row.username,
        room: row.conversation.startsWith('r:') ? (row.room ?? row.conversation) : undefined,
        msgType: Number(row.msg_type),
        content: row.content,
        date: utcIso(row.created_at),
      })),
    };
  }
}

export type Digests = ReturnType<typeof createDigests>;
