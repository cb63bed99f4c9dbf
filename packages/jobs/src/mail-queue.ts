import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { MAIL_JOB_NAME, MAIL_QUEUE, type MailJob } from './mail-job.ts';
import { queuePrefix } from './queue-prefix.ts';

export interface MailQueueOptions {
  /**
   * A client the caller owns and closes; the queue issues its commands on it and never closes it.
   * It may use the default `maxRetriesPerRequest` (only the worker needs `null`).
   */
  connection: Redis | Cluster;
  /** The deployment key prefix, config `redis.prefix` (e.g. `im:`). */
  prefix: string;
  /** Tries per mail, the first one included. @default 5 */
  attempts?: number;
  /** Delay before the first retry in ms; it doubles on each retry (1 s, 2 s, 4 s, 8 s). @default 1000 */
  backoffMs?: number;
}

export interface MailQueue {
  /**
   * Stores the mail for the worker and resolves with the job id once it is in Redis. With a
   * `jobId`, a mail with that id still in the queue is not added again (a retried producer).
   */
  enqueue(job: MailJob, options?: { jobId?: string }): Promise<string>;
  /** How many jobs are in each state, for the worker's queue-depth metric. */
  jobCounts(): Promise<Record<MailJobState, number>>;
  /** Stops using the connection; the connection itself stays open. */
  close(): Promise<void>;
}

/** The states a mail job can be counted in. */
export const MAIL_JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type MailJobState = (typeof MAIL_JOB_STATES)[number];

/** The producer side of the mail queue, used by the API. */
export function createMailQueue({ connection, prefix, attempts = 5, backoffMs = 1000 }: MailQueueOptions): MailQueue {
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`jobs: attempts must be a positive integer, got ${attempts}`);
  }
  if (!Number.isFinite(backoffMs) || backoffMs < 0) {
    throw new RangeError(`jobs: backoffMs must be a non-negative number, got ${backoffMs}`);
  }
  const queue = new Queue<MailJob>(MAIL_QUEUE, {
    connection,
    prefix: queuePrefix(prefix, connection),
    defaultJobOptions: {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      // The job data holds a login code: drop it as soon as the mail is out. A failed job is kept
      // a day so the failure can be inspected; its code expired long before (email.code_ttl_seconds).
      // BullMQ evicts by age only when a later job fails, so a quiet queue may keep it longer.
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    },
  });
  // Connection errors also reach the caller's client, and a failed add rejects enqueue(); without
  // a listener BullMQ would print each one to the console as well.
  queue.on('error', () => {});

  return {
    async enqueue(job, options = {}) {
      for (const field of ['to', 'subject', 'text'] as const) {
        if (typeof job[field] !== 'string' || job[field].trim() === '') {
          throw new TypeError(`jobs: mail ${field} must be a non-empty string`);
        }
      }
      // Only the known fields go to Redis, so a caller's extra properties cannot ride along.
      const data: MailJob = { to: job.to, subject: job.subject, text: job.text };
      if (job.html !== undefined) data.html = job.html;
      const added = await queue.add(MAIL_JOB_NAME, data, options.jobId === undefined ? {} : { jobId: options.jobId });
      if (added.id === undefined) throw new Error('jobs: BullMQ returned a job without an id');
      return added.id;
    },
    async jobCounts() {
      const counts = await queue.getJobCounts(...MAIL_JOB_STATES);
      return Object.fromEntries(MAIL_JOB_STATES.map((state) => [state, counts[state] ?? 0])) as Record<MailJobState, number>;
    },
    close: () => queue.close(),
  };
}
