import { GROUP_CONVERSATION } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import type { GroupListInput } from './schemas.ts';
import { historyPage } from './find-page.ts';
import type { HistoryPage } from './to-frames.ts';

/** Group history. An empty or unknown `username` shows everyone's messages (docs/protocol.md, History). */
export async function listGroupHistory(ctx: ApiContext, input: GroupListInput): Promise<HistoryPage> {
  const sender = input.username
    ? await ctx.db.user.findUnique({ where: { username: input.username }, select: { userId: true } })
    : null;
  return historyPage(
    ctx.history,
    sender ? { conversation: GROUP_CONVERSATION, senderId: sender.userId } : { conversation: GROUP_CONVERSATION },
    input,
  );
}
