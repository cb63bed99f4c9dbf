export { MAIL_QUEUE, type MailJob } from './mail-job.ts';
export { createMailQueue, MAIL_JOB_STATES, type MailJobState, type MailQueue, type MailQueueOptions } from './mail-queue.ts';
export { queuePrefix } from './queue-prefix.ts';
