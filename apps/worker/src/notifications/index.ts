import type { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Config } from '@im/config';
import type { SqlRunner } from '@im/db';
import type { MailQueue } from '@im/jobs';
import type { Logger } from '@im/logger';
import { createDeadLetters } from './dead-letters.ts';
import { createDigests } from './digest.ts';
import { createLease } from './lease.ts';
import { createMessageTail } from './message-tail.ts';
import { createNotifier, type Notifier } from './notifier.ts';
import { createOfflineEventWorker, createOfflineQueue } from './offline-events.ts';
import { createWebhookQueues, createWebhookWorkers, type OutcomeListener } from './webhook-queues.ts';
import { createWhoIsOnline } from './who-is-online.ts';

export { createWebhookQueues, type NotificationOutcome, type OutcomeListener } from './webhook-queues.ts';
export { createDeadLetters, type DeadLetter } from './dead-letters.ts';

export interface NotificationsOptions {
  config: Pick<Config, 'notifications' | 'redis'>;
  sql: SqlRunner;
  /** For BullMQ's workers: `maxRetriesPerRequest: null`, no command deadline. */
  workerRedis: Redis | Cluster;
  /** For the lease, presence and the producers: a client with command deadlines. */
  redis: Redis | Cluster;
  mail: MailQueue;
  logger: Logger;
  onOutcome?: OutcomeListener;
}

export interface Notifications {
  notifier: Notifier;
  workers: Worker[];
  /** Waits for the BullMQ workers to connect. */
  ready(): Promise<void>;
  /** Stops tailing, lets the jobs in flight finish, closes the queues (not the clients). */
  close(): Promise<void>;
}

/** The offline notifications of README "Offline notifications", wired from settings. */
export function createNotifications(options: NotificationsOptions): Notifications {
  const { config, sql, logger, onOutcome } = options;
  const settings = config.notifications;
  const prefix = config.redis.prefix;
  const retention = settings.job_retention_seconds;
  const offlineQueue = createOfflineQueue(options.redis, prefix, retention);
  const webhooks = createWebhookQueues({
    connection: options.redis,
    prefix,
    endpoints: settings.webhooks.endpoints,
    attempts: settings.webhooks.attempts,
    backoffMs: settings.webhooks.backoff_ms,
    retentionSeconds: retention,
  });
  const digests = createDigests({ sql, connection: options.redis, prefix, settings: settings.digest, retentionSeconds: retention });
  const workers: Worker[] = [
    createOfflineEventWorker({ connection: options.workerRedis, prefix, webhooks, digests, logger, ...(onOutcome ? { onOutcome } : {}) }),
    ...createWebhookWorkers({
      connection: options.workerRedis,
      prefix,
      endpoints: settings.webhooks.endpoints,
      timeoutMs: settings.webhooks.timeout_ms,
      deadLetters: createDeadLetters(sql),
      logger,
      ...(onOutcome ? { onOutcome } : {}),
    }),
    digests.worker({ connection: options.workerRedis, mail: options.mail, logger, ...(onOutcome ? { onOutcome } : {}) }),
  ];
  const notifier = createNotifier({
    sql,
    tail: createMessageTail(sql, 'offline_messages'),
    lease: createLease(options.redis, `${prefix}notifier:lease`, settings.lease_ms),
    presence: createWhoIsOnline(options.redis, prefix),
    queue: offlineQueue,
    logger,
    pollMs: settings.poll_ms,
    batchSize: settings.batch_size,
    settleMs: settings.settle_ms,
  });
  return {
    notifier,
    workers,
    async ready() {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    async close() {
      await notifier.stop();
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([offlineQueue.close(), webhooks.close(), digests.close()]);
    },
  };
}
