import type { DeadLetters } from './dead-letters.ts';
import type { WebhookQueues } from './webhook-queues.ts';

/**
 * Queues a dead letter again for its endpoint, with the same `webhook-id` and body (a fresh
 * timestamp and signature), and marks it replayed. If it fails again it comes back as a dead
 * letter, replayed_at cleared. The job id is new on every replay, so one replay is never mistaken
 * for an earlier one.
 */
export async function replayDeadLetter(deadLetters: DeadLetters, webhooks: WebhookQueues, id: string): Promise<void> {
  if (!/^\d{1,20}$/.test(id)) throw new ReplayError(`dead letter id must be a number, got ${JSON.stringify(id)}`);
  const letter = await deadLetters.find(id);
  if (!letter) throw new ReplayError(`no dead letter ${id}`);
  if (!webhooks.subscribers(letter.eventType).some((e) => e.name === letter.endpoint)) {
    throw new ReplayError(`dead letter ${id} is for endpoint ${letter.endpoint}, which is not configured for ${letter.eventType} (notifications.webhooks.endpoints)`);
  }
  await webhooks.add(letter.endpoint, { eventId: letter.eventId, eventType: letter.eventType, body: letter.body }, `replay-${id}-${Date.now()}`);
  await deadLetters.markReplayed(id);
}

/** A replay refused for a reason the operator can fix; its message is the one line to print. */
export class ReplayError extends Error {
  override name = 'ReplayError';
}
