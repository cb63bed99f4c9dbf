import { UnrecoverableError } from 'bullmq';

export type Failure = 'permanent' | 'transient';

/**
 * nodemailer codes that no retry can fix when the server sent no reply code: an envelope refused
 * before sending (bad or missing address), too many recipients, missing credentials, bad options.
 */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMAXRECIPIENTS', 'ENOAUTH', 'ECONFIG']);

/**
 * Says whether sending the same mail again could succeed. A server reply decides when there is
 * one: 5xx is final (RFC 5321), except 503, which nodemailer documents as a session in the wrong
 * state that a new connection can clear; 4xx (greylisting, full mailbox, 421 shutting down) is
 * temporary. Without a reply, an address or configuration problem is final, and everything else
 * (refused or dropped connection, timeout, DNS, TLS, full disk) is worth retrying.
 */
export function classifyFailure(err: unknown): Failure {
  const { code, responseCode } = (err ?? {}) as { code?: unknown; responseCode?: unknown };
  if (typeof responseCode === 'number') {
    return responseCode >= 500 && responseCode < 600 && responseCode !== 503 ? 'permanent' : 'transient';
  }
  return typeof code === 'string' && PERMANENT_CODES.has(code) ? 'permanent' : 'transient';
}

/**
 * The error to throw from the processor: an UnrecoverableError makes BullMQ fail the job at once
 * instead of using its remaining attempts; anything else is retried with backoff.
 */
export function toJobError(err: unknown): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  return classifyFailure(err) === 'permanent' ? new UnrecoverableError(error.message) : error;
}
