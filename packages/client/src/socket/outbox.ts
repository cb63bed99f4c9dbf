import { ErrorCode } from '@im/protocol';
import { ApiError } from '../api-error.ts';
import type { ChatMessage } from '../types.ts';
import { backoffDelay } from './backoff.ts';
import type { PendingMessage, SentMessage } from './chat-socket-types.ts';
import type { OutgoingMessage } from './frames.ts';

/** Transient refusals: the same `client_msg_id` is sent again later. */
const RETRY_CODES: ReadonlySet<number> = new Set([ErrorCode.ServiceUnavailable, ErrorCode.TooManyRequests]);

export interface OutboxEntry extends PendingMessage {
  text: string;
  resolve: (message: ChatMessage) => void;
  reject: (error: ApiError) => void;
  promise: Promise<ChatMessage>;
  /** When it went out on the current connection; undefined while it waits to be (re)sent. */
  sentAt?: number;
  attempts: number;
  retryTimer?: ReturnType<typeof setTimeout>;
}

export interface OutboxOptions {
  maxFrameBytes: number;
  maxSendAttempts: number;
  random: () => number;
}

/**
 * The messages a socket sent and the server has not acknowledged yet, in the order they were
 * written. Each has its `client_msg_id` for life, so however often it goes out the server stores
 * it once; the echo (or a refusal for good) takes it out. The socket decides when to send; this
 * decides what, and what a refusal means.
 */
export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly idPrefix = randomPrefix();
  private idCounter = 0;
  private maxFrameBytes: number;

  constructor(private readonly options: OutboxOptions) {
    this.maxFrameBytes = options.maxFrameBytes;
  }

  get pending(): PendingMessage[] {
    return [...this.entries.values()].map(({ clientMsgId, frame }) => ({ clientMsgId, frame }));
  }

  get(clientMsgId: string | undefined): OutboxEntry | undefined {
    return clientMsgId === undefined ? undefined : this.entries.get(clientMsgId);
  }

  /**
   * Takes a message in (the one already there when its id is); throws an ApiError (1008) for a
   * frame too large to send: the gateway would close the socket with 1009.
   */
  add(fields: OutgoingMessage, clientMsgId = this.nextId()): { entry: OutboxEntry; sent: SentMessage } {
    const existing = this.entries.get(clientMsgId);
    if (existing) return { entry: existing, sent: { clientMsgId, acked: existing.promise } };
    const frame = { ...fields, client_msg_id: clientMsgId };
    const text = JSON.stringify(frame);
    const bytes = byteLength(text);
    if (bytes > this.maxFrameBytes) {
      throw new ApiError(ErrorCode.PayloadRejected, 0, `message too large (${bytes} bytes; at most ${this.maxFrameBytes})`);
    }
    let resolve!: (message: ChatMessage) => void;
    let reject!: (error: ApiError) => void;
    const promise = new Promise<ChatMessage>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers that only listen to events need not handle the promise.
    promise.catch(() => {});
    const entry: OutboxEntry = { clientMsgId, frame, text, resolve, reject, promise, attempts: 0 };
    this.entries.set(clientMsgId, entry);
    return { entry, sent: { clientMsgId, acked: promise } };
  }

  /** What goes out after a welcome, oldest first: not sent on this connection, not waiting to retry. */
  unsent(): OutboxEntry[] {
    return [...this.entries.values()].filter((entry) => entry.sentAt === undefined && entry.retryTimer === undefined);
  }

  /** The text to put on the wire, counting the attempt. */
  markSent(entry: OutboxEntry): string {
    entry.sentAt = Date.now();
    entry.attempts += 1;
    return entry.text;
  }

  /** The connection is gone: whatever was in flight goes out again on the next one. */
  connectionLost(): void {
    for (const entry of this.entries.values()) entry.sentAt = undefined;
  }

  /** The echo arrived: the message is stored. */
  acknowledge(entry: OutboxEntry, message: ChatMessage): void {
    this.remove(entry);
    entry.resolve(message);
  }

  /**
   * The server refused it. 1500 (not stored) and 1007 (too fast) are tried again with backoff —
   * `resend` is called when it is time — up to `maxSendAttempts`; anything else is final, and the
   * error is returned for the socket to report.
   */
  refuse(entry: OutboxEntry, code: number, content: string, resend: (entry: OutboxEntry) => void): ApiError | undefined {
    entry.sentAt = undefined;
    if (RETRY_CODES.has(code) && entry.attempts < this.options.maxSendAttempts) {
      entry.retryTimer = setTimeout(
        () => {
          entry.retryTimer = undefined;
          if (this.entries.get(entry.clientMsgId) === entry) resend(entry);
        },
        backoffDelay(entry.attempts - 1, { initialMs: 1_000, maxMs: 10_000 }, this.options.random),
      );
      return undefined;
    }
    return this.fail(entry, new ApiError(code, 0, content));
  }

  /**
   * 1009: the gateway read a frame over its limit and closed. The largest message waiting is the
   * culprit; it fails, and later ones larger than it are refused before they are sent.
   */
  dropLargest(): { clientMsgId: string; error: ApiError } | undefined {
    let largest: OutboxEntry | undefined;
    for (const entry of this.entries.values()) if (!largest || entry.text.length > largest.text.length) largest = entry;
    if (!largest) return undefined;
    this.maxFrameBytes = Math.min(this.maxFrameBytes, byteLength(largest.text) - 1);
    const error = this.fail(largest, new ApiError(ErrorCode.PayloadRejected, 0, 'message too large for the server'));
    return { clientMsgId: largest.clientMsgId, error };
  }

  /** Whether a message sent on this connection has waited longer than `timeoutMs` for its echo. */
  overdue(timeoutMs: number, now = Date.now()): boolean {
    for (const entry of this.entries.values()) if (entry.sentAt !== undefined && now - entry.sentAt > timeoutMs) return true;
    return false;
  }

  private fail(entry: OutboxEntry, error: ApiError): ApiError {
    this.remove(entry);
    entry.reject(error);
    return error;
  }

  private remove(entry: OutboxEntry): void {
    if (entry.retryTimer !== undefined) clearTimeout(entry.retryTimer);
    this.entries.delete(entry.clientMsgId);
  }

  private nextId(): string {
    this.idCounter += 1;
    return `${this.idPrefix}-${this.idCounter}`;
  }
}

/** 12 random base-36 characters: a device's ids never meet another's (the server keys by sender). */
function randomPrefix(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return `c${[...bytes].map((b) => (b % 36).toString(36)).join('')}`;
}

const encoder = new TextEncoder();
function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}
