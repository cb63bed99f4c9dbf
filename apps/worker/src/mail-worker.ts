import { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { MAIL_QUEUE, queuePrefix, type MailJob } from '@im/jobs';
import type { Logger } from '@im/logger';
import { classifyFailure, toJobError } from './classify-failure.ts';
import type { MailTransport } from './mail-transport.ts';

export interface MailWorkerOptions {
  /**
   * A client the caller owns, created with `maxRetriesPerRequest: null` (BullMQ refuses others for
   * a worker). BullMQ duplicates it for its blocking reads and closes only the duplicates.
   */
  connection: Redis | Cluster;
  /** The deployment key prefix, config `redis.prefix` (e.g. `im:`). */
  prefix: string;
  transport: MailTransport;
  /** Sender of every mail, config `email.from`. */
  from: string;
  logger: Logger;
  /** Mails sent at the same time. @default 1 */
  concurrency?: number;
  /** Told what became of each attempt (the worker's metrics count them). */
  onOutcome?: (outcome: MailOutcome) => void;
}

/** What became of one attempt: sent, failed for now and tried again later, or given up on. */
export type MailOutcome = 'sent' | 'retried' | 'failed';

/**
 * What a sent job returns. BullMQ copies it into the queue's event stream, which outlives the job,
 * so it must never carry the mail's content.
 */
export interface MailResult {
  messageId: string;
}

/** Consumes the mail queue. `close()` lets the mails in flight finish. */
export function createMailWorker({
  connection,
  prefix,
  transport,
  from,
  logger,
  concurrency = 1,
  onOutcome = () => {},
}: MailWorkerOptions): Worker<MailJob, MailResult> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`worker: concurrency must be a positive integer, got ${concurrency}`);
  }
  const worker = new Worker<MailJob, MailResult>(
    MAIL_QUEUE,
    async (job) => {
      const { to, subject, text, html } = job.data;
      // Where the mail goes, never what it says; the domain only, the address is personal data.
      const where = { jobId: job.id, attempt: job.attemptsMade + 1, toDomain: domainOf(to) };
      try {
        const delivery = await transport.send({ from, to, subject, text, ...(html === undefined ? {} : { html }) });
        logger.info({ ...where, via: transport.kind, messageId: delivery.messageId, path: delivery.path }, 'mail sent');
        onOutcome('sent');
        return { messageId: delivery.messageId };
      } catch (err) {
        const failure = classifyFailure(err);
        const willRetry = failure === 'transient' && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
        // A mail given up on is a user who never gets their code: error, not warning.
        logger[willRetry ? 'warn' : 'error']({ ...where, via: transport.kind, failure, willRetry, ...errorFields(err) }, 'mail not sent');
        onOutcome(willRetry ? 'retried' : 'failed');
        throw toJobError(err);
      }
    },
    { connection, prefix: queuePrefix(prefix, connection), concurrency },
  );
  // Without a listener an 'error' (Redis down, lost lock) would be thrown instead of reported.
  worker.on('error', (err) => logger.error({ err }, 'mail worker error'));
  return worker;
}

function domainOf(address: string): string {
  return /@([^\s@<>]+)>?\s*$/.exec(address)?.[1]?.toLowerCase() ?? 'unknown';
}

/**
 * The parts of a nodemailer error that are safe to log. Its message may quote the server reply
 * and with it the full address, so it stays in the job's failedReason in Redis. The key is
 * `errorCode` because the logger drops any `code` field (it is where login codes would be).
 */
function errorFields(err: unknown): Record<string, unknown> {
  const { code, originalCode, responseCode, command } = (err ?? {}) as Record<string, unknown>;
  return { errorCode: code, originalCode, responseCode, command };
}
