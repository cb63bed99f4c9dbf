import { ErrorCode } from '@im/protocol';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

/**
 * Part 2's resume (msg_type 10) answered with `1500` and no conversation: the gateway could not
 * read what the user may see (MySQL busy or away, say after a gateway crash sent it thousands of
 * sockets at once) and applied nothing. The resume goes again on the same socket after a backoff
 * delay — reconnecting would cost the gateway more — until the caught-up notice comes or the
 * socket closes.
 */
export class ResumeRetry {
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly backoff: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** Whether a notice says the resume as a whole failed (a conversation's own failure names it). */
  static failed(frame: { code: number; conversation?: string; client_msg_id?: string | null }): boolean {
    return frame.code === ErrorCode.ServiceUnavailable && !frame.conversation && !frame.client_msg_id;
  }

  /** Calls `resend` after the next delay (once, however many failures arrive meanwhile). */
  schedule(resend: () => void): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      resend();
    }, backoffDelay(this.attempt++, this.backoff, this.random));
  }

  /** The socket was welcomed or closed: nothing pending, the next failure starts from the first delay. */
  reset(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.attempt = 0;
  }
}
