import { Queue, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { queuePrefix } from '@im/jobs';
import type { Logger } from '@im/logger';
import type { Digests } from './digest.ts';
import { OFFLINE_MESSAGE_EVENT, OFFLINE_QUEUE, type OfflineMessage } from './events.ts';
import type { OutcomeListener, WebhookQueues } from './webhook-queues.ts';

export function createOfflineQueue(connection: Redis | Cluster, prefix: string, retentionSeconds: number): Queue<OfflineMessage> {
  const queue = new Queue<OfflineMessage>(OFFLINE_QUEUE, {
    connection,
    prefix: queuePrefix(prefix, connection),
    defaultJobOptions: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
      // Kept so the notifier re-reading a message (crash, lease change) finds the job and adds none.
      removeOnComplete: { age: retentionSeconds },
      removeOnFail: { age: retentionSeconds },
    },
  });
  queue.on('error', () => {});
  return queue;
}

export interface OfflineEventWorkerOptions {
  connection: Redis | Cluster;
  prefix: string;
  webhooks: WebhookQueues;
  digests: Digests;
  logger: Logger;
  onOutcome?: OutcomeListener;
}

/**
 * Turns each (recipient, message) into a delivery per subscribed webhook endpoint and an entry in
 * the recipient's digest. Both keep the job's id, so a retry of this job adds nothing twice.
 */
export function createOfflineEventWorker(options: OfflineEventWorkerOptions): Worker<OfflineMessage> {
  const { webhooks, digests, logger, onOutcome = () => {} } = options;
  const worker = new Worker<OfflineMessage>(
    OFFLINE_QUEUE,
    async (job) => {
      const eventId = job.id!;
      // Standard Webhooks' payload shape; the timestamp is the message's, so the body is the same
      // whenever it is built.
      const body = JSON.stringify({ type: OFFLINE_MESSAGE_EVENT, timestamp: job.data.message.date, data: job.data });
      for (const endpoint of webhooks.subscribers(OFFLINE_MESSAGE_EVENT)) {
        await webhooks.add(endpoint.name, { eventId, eventType: OFFLINE_MESSAGE_EVENT, body }, eventId);
        onOutcome('webhook', 'queued');
      }
      if (await digests.add(job.data.recipient_id, job.data.message.id)) onOutcome('digest', 'queued');
    },
    { connection: options.connection, prefix: queuePrefix(options.prefix, options.connection), concurrency: 8 },
  );
  worker.on('error', (err) => logger.error({ err: { message: err.message } }, 'offline event worker error'));
  return worker;
}
