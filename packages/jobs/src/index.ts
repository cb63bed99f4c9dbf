export { MAIL_QUEUE, type MailJob } from './mail-job.ts';
export { createMailQueue, type MailQueue, type MailQueueOptions } from './mail-queue.ts';
export { queuePrefix } from './queue-prefix.ts';
