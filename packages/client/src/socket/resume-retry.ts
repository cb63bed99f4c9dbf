import { ErrorCode } from '@im/protocol';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

type Notice = { code: number; conversation?: string; client_msg_id?: string | null };

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
  static failed(frame: Notice): boolean {
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

  /** A resume went through: the next failure starts from the first delay (a retry already waiting still goes). */
  succeeded(): void {
    if (this.timer === undefined) this.attempt = 0;
  }

  /** The socket was welcomed or closed: nothing pending, the next failure starts from the first delay. */
  reset(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.attempt = 0;
  }
}

/**
 * One conversation of a resume that the gateway could not catch up (`1500` naming it, not about a
 * send): that conversation went live without its missed messages, and the rest of the resume went
 * on. It is resumed again on its own, from the newest id the client has, after a backoff delay;
 * failures that arrive together go out in one frame. Without this, what was stored while the
 * client was away stays missing until the next reconnect.
 */
export class ConversationRetry {
  private readonly pending = new Set<string>();
  private readonly retry: ResumeRetry;

  constructor(backoff: BackoffOptions, random: () => number) {
    this.retry = new ResumeRetry(backoff, random);
  }

  /** The conversation a notice says could not be caught up, if that is what it says. */
  static failedConversation(frame: Notice): string | undefined {
    return frame.code === ErrorCode.ServiceUnavailable && frame.conversation && !frame.client_msg_id ? frame.conversation : undefined;
  }

  /** Resumes `conversation` again after the next delay, with any others failing meanwhile. */
  add(conversation: string, resend: (conversations: string[]) => void): void {
    this.pending.add(conversation);
    this.retry.schedule(() => {
      const conversations = [...this.pending];
      this.pending.clear();
      resend(conversations);
    });
  }

  /** A caught-up notice came: if nothing is waiting, the next failure starts from the first delay. */
  caughtUp(): void {
    if (this.pending.size === 0) this.retry.succeeded();
  }

  /** The socket closed: its reconnect resumes everything anyway. */
  reset(): void {
    this.pending.clear();
    this.retry.reset();
  }
}
