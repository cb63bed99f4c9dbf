import { ErrorCode, type ParsedConversation } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import type { CatchUp } from '../sessions/catch-up.ts';
import { CAUGHT_UP, sendConversationNotice } from './conversation-errors.ts';
import type { Devices } from './devices.ts';
import { resumable, type ResumableSources } from './resumable.ts';
import type { Subscription } from './subscription.ts';

export interface ResumeContext extends ResumableSources {
  devices: Devices;
  catchUp: Pick<CatchUp, 'run'>;
  metrics: Pick<GatewayMetrics, 'resumeFailures'>;
}

/** Conversations caught up at once for one socket: each catch-up is a few MySQL pages at most. */
const PARALLEL = 8;

/**
 * msg_type 10: for every listed conversation the socket may see, the messages after its last id,
 * in order, then its live ones (queued meanwhile), with no gap and no duplicate; then the "caught
 * up" notice. A conversation the user may not see gets a 1005 error naming it (and nothing else
 * changes). Naming `group` subscribes the socket to it.
 *
 * A conversation this socket already receives live resumes from what the socket was sent: ids
 * the client names below that are not sent again (the socket delivered them, or they came
 * before it opened, and a client resumes only with what it has).
 */
export async function resume(ctx: ResumeContext, connection: Connection, conversations: Array<[ParsedConversation, bigint]>): Promise<void> {
  ctx.devices.resumeStarted(connection);
  const visible = await resumable(ctx, connection.userId, conversations.map(([conversation]) => conversation)).catch((err: unknown) => {
    ctx.metrics.resumeFailures.inc({ stage: 'membership' });
    ctx.devices.resumeFailed(connection);
    throw err;
  });
  const listed = conversations.filter(([conversation]) => visible.has(conversation.id));
  for (const [conversation] of conversations) {
    if (!visible.has(conversation.id)) sendConversationNotice(connection, ErrorCode.NotFound, '会话不存在或你不在其中', conversation.id);
  }
  // Queue live frames of the listed conversations first, then let the others go.
  const resuming = listed.map(([conversation, lastId]): [Subscription, bigint] => {
    const subscription = ctx.devices.resumed(connection, conversation.id);
    subscription.startCatchUp();
    return [subscription, lastId];
  });
  ctx.devices.release(connection, new Set(listed.map(([conversation]) => conversation.id)));
  let next = 0;
  const worker = async () => {
    while (next < resuming.length && connection.isOpen) {
      const [subscription, lastId] = resuming[next++]!;
      let stage = 'join';
      try {
        await ctx.devices.join(subscription);
        stage = 'catch_up';
        await ctx.catchUp.run(subscription, lastId);
      } catch {
        ctx.metrics.resumeFailures.inc({ stage });
        // MySQL or Redis did not answer. Delivering the conversation live now would leave a gap
        // the client could not see (its last id would jump past the messages it missed), so the
        // socket stops getting it, whatever it queued is dropped, and the client is told to
        // resume it again: from its unchanged last id, the next resume makes it whole.
        ctx.devices.suspend(connection, subscription.room);
        sendConversationNotice(connection, ErrorCode.ServiceUnavailable, '会话同步失败，请稍后重新同步', subscription.room);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, resuming.length) }, worker));
  sendConversationNotice(connection, ErrorCode.Ok, CAUGHT_UP);
}
