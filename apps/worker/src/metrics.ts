import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { MAIL_JOB_STATES, type MailJobState } from '@im/jobs';
import type { MailOutcome } from './mail-worker.ts';
import type { NotificationOutcome } from './notifications/index.ts';

export interface WorkerMetricsOptions {
  /** Counts the mail queue's jobs by state; called on every scrape. */
  jobCounts(): Promise<Record<MailJobState, number>>;
  /** Told when counting failed (Redis down or slow): the scrape then has no queue figures. */
  onCountError?(err: unknown): void;
  /** Deadline for one count. @default 2000 */
  countTimeoutMs?: number;
}

/** The mail worker's Prometheus metrics, served by its ops server (`worker.port`). */
export function createWorkerMetrics(options: WorkerMetricsOptions) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const mails = new Counter({
    name: 'im_worker_mails_total',
    help: 'Mail attempts by result: sent, retried (a temporary failure, tried again later) or failed (given up)',
    labelNames: ['result'],
    registers: [registry],
  });
  // Every result shows from the start, at 0, so rates work before the first failure.
  for (const result of ['sent', 'retried', 'failed'] satisfies MailOutcome[]) mails.inc({ result }, 0);
  const notifications = new Counter({
    name: 'im_worker_notifications_total',
    help: 'Offline notifications by channel (webhook, digest) and result: queued, delivered, retried (failed for now) or failed (given up; webhooks become dead letters)',
    labelNames: ['channel', 'result'],
    registers: [registry],
  });
  for (const channel of ['webhook', 'digest']) {
    for (const result of ['queued', 'delivered', 'retried', 'failed'] satisfies NotificationOutcome[]) notifications.inc({ channel, result }, 0);
  }
  const timeoutMs = options.countTimeoutMs ?? 2_000;
  new Gauge({
    name: 'im_worker_queue_jobs',
    help: 'Mail jobs in the queue by state (waiting, active, delayed, failed), counted in Redis at each scrape',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const counts = await withDeadline(options.jobCounts(), timeoutMs);
        for (const state of MAIL_JOB_STATES) this.set({ state }, counts[state]);
      } catch (err) {
        // No figures rather than stale ones; the rest of the scrape still answers.
        options.onCountError?.(err);
      }
    },
  });
  return {
    registry,
    /** Records what became of one attempt (see createMailWorker's onOutcome). */
    outcome(result: MailOutcome): void {
      mails.inc({ result });
    },
    /** Records what became of an offline notification (createNotifications' onOutcome). */
    notification(channel: 'webhook' | 'digest', result: NotificationOutcome): void {
      notifications.inc({ channel, result });
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
