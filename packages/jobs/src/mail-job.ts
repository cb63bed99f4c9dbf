/** Name of the BullMQ queue that carries outgoing mail. */
export const MAIL_QUEUE = 'mail';

/** Name given to every job on the mail queue. */
export const MAIL_JOB_NAME = 'send';

/**
 * One mail to send. It is stored in Redis until the worker has sent it, and verification mails
 * carry a login code in `text`/`html`: never log these fields and never copy them elsewhere.
 */
export interface MailJob {
  /** A single recipient address. */
  to: string;
  subject: string;
  /** Plain-text body; always present so every client can read the mail. */
  text: string;
  /** Optional HTML alternative of `text`. */
  html?: string;
}
