/**
 * What the notifications carry. The body of a webhook is Standard Webhooks' `{type, timestamp,
 * data}`; `data` is an OfflineMessage. Documented for receivers in docs/webhooks.md.
 */

/** The one event type so far: a message reached a recipient who had no connection. */
export const OFFLINE_MESSAGE_EVENT = 'message.offline';

export interface OfflineMessage {
  /** Who was offline: the private peer, or a room member who was mentioned (or @all). */
  recipient_id: string;
  /** Why this recipient: `private`, `mention` or `all`. */
  reason: RecipientReason;
  message: {
    id: string;
    conversation: string;
    user_id: string;
    username: string;
    msg_type: number;
    content: string;
    /** ISO 8601, UTC. */
    date: string;
    room?: { room_id: string; name: string };
  };
}

export type RecipientReason = 'private' | 'mention' | 'all';

/** Queue of (recipient, message) pairs the notifier found; the worker fans each out. */
export const OFFLINE_QUEUE = 'offline-messages';

/**
 * The id of every job about one (message, recipient): the same whoever reads the message and
 * however often, so BullMQ adds it once (a job with an existing id is not added again). Also
 * the `webhook-id` header, which receivers use to deduplicate. BullMQ refuses ':' in ids.
 */
export function offlineEventId(messageId: string, recipientId: string): string {
  return `msg_${messageId}_${recipientId}`;
}
