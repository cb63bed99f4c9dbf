import { Queue, UnrecoverableError, Worker, type JobsOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { queuePrefix } from '@im/jobs';
import type { Logger } from '@im/logger';
import type { DeadLetters } from './dead-letters.ts';
import { deliver, DeliveryError, type WebhookEndpoint, type WebhookJob } from './webhook-delivery.ts';

/** What became of a notification: handed to a queue, delivered, failed for now, or given up on. */
export type NotificationOutcome = 'queued' | 'delivered' | 'retried' | 'failed';
export type OutcomeListener = (channel: 'webhook' | 'digest', outcome: NotificationOutcome) => void;

/** Each endpoint has a queue of its own, so a slow or failing one holds up nobody else. */
export function webhookQueueName(endpoint: string): string {
  return `webhook-${endpoint}`;
}

export interface WebhookQueueOptions {
  connection: Redis | Cluster;
  prefix: string;
  endpoints: readonly WebhookEndpoint[];
  attempts: number;
  backoffMs: number;
  retentionSeconds: number;
}

export interface WebhookQueues {
  /** Queues `job` for `endpoint` under `jobId` (a job with that id already there is not added again). */
  add(endpoint: string, job: WebhookJob, jobId: string): Promise<void>;
  /** The endpoints subscribed to `eventType`. */
  subscribers(eventType: string): WebhookEndpoint[];
  close(): Promise<void>;
}

export function createWebhookQueues(options: WebhookQueueOptions): WebhookQueues {
  const defaults: JobsOptions = {
    attempts: options.attempts,
    backoff: { type: 'exponential', delay: options.backoffMs },
    // Kept for the retention so a re-queued event finds its job and is not delivered twice; a
    // failed one is in the dead letters already.
    removeOnComplete: { age: options.retentionSeconds },
    removeOnFail: { age: options.retentionSeconds },
  };
  const queues = new Map(
    options.endpoints.map((endpoint) => {
      const queue = new Queue<WebhookJob>(webhookQueueName(endpoint.name), {
        connection: options.connection,
        prefix: queuePrefix(options.prefix, options.connection),
        defaultJobOptions: defaults,
      });
      queue.on('error', () => {});
      return [endpoint.name, queue] as const;
    }),
  );
  return {
    async add(endpoint, job, jobId) {
      const queue = queues.get(endpoint);
      if (!queue) throw new Error(`webhooks: no endpoint named ${JSON.stringify(endpoint)} in notifications.webhooks.endpoints`);
      await queue.add('deliver', job, { jobId });
    },
    subscribers: (eventType) => options.endpoints.filter((e) => e.events.includes(eventType)),
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

export interface WebhookWorkerOptions {
  /** A client with `maxRetriesPerRequest: null`, as BullMQ workers need. */
  connection: Redis | Cluster;
  prefix: string;
  endpoints: readonly WebhookEndpoint[];
  timeoutMs: number;
  deadLetters: DeadLetters;
  logger: Logger;
  onOutcome?: OutcomeListener;
}

/** One BullMQ worker per endpoint, `endpoint.concurrency` deliveries in flight each. */
export function createWebhookWorkers(options: WebhookWorkerOptions): Worker<WebhookJob, number>[] {
  const { logger, onOutcome = () => {} } = options;
  return options.endpoints.map((endpoint) => {
    const worker = new Worker<WebhookJob, number>(
      webhookQueueName(endpoint.name),
      async (job) => {
        const attempt = job.attemptsMade + 1;
        const where = { endpoint: endpoint.name, eventId: job.data.eventId, attempt };
        try {
          const status = await deliver(endpoint, job.data, options.timeoutMs);
          logger.info({ ...where, status }, 'webhook delivered');
          onOutcome('webhook', 'delivered');
          return status;
        } catch (err) {
          const failure = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message, undefined, false);
          const willRetry = !failure.permanent && attempt < (job.opts.attempts ?? 1);
          logger[willRetry ? 'warn' : 'error']({ ...where, status: failure.status, reason: failure.message, willRetry }, 'webhook not delivered');
          if (willRetry) {
            onOutcome('webhook', 'retried');
            throw failure;
          }
          // The job itself stays in Redis as failed for the retention, so an unrecorded one can still be found there.
          await options.deadLetters.record(endpoint.name, job.data, attempt, failure.status, failure.message).catch((recordErr: unknown) =>
            logger.error({ ...where, err: { message: (recordErr as Error)?.message } }, 'cannot record the webhook dead letter'),
          );
          onOutcome('webhook', 'failed');
          throw new UnrecoverableError(failure.message);
        }
      },
      { connection: options.connection, prefix: queuePrefix(options.prefix, options.connection), concurrency: endpoint.concurrency },
    );
    worker.on('error', (err) => logger.error({ err: { message: err.message }, endpoint: endpoint.name }, 'webhook worker error'));
    return worker;
  });
}
