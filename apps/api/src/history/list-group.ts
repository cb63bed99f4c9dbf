import { lastSeq, type Prisma } from '@im/db';
import { GROUP_CONVERSATION } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import type { GroupListInput } from './schemas.ts';
import { findPage } from './find-page.ts';
import { toFrames, type HistoryPage } from './to-frames.ts';

/** Group history. An empty or unknown `username` shows everyone's messages (CONTRACT.md, History). */
export async function listGroupHistory(ctx: ApiContext, input: GroupListInput): Promise<HistoryPage> {
  const sender = input.username
    ? await ctx.db.user.findUnique({ where: { username: input.username }, select: { userId: true } })
    : null;
  const where: Prisma.ChatMessageWhereInput = sender
    ? { conversation: GROUP_CONVERSATION, senderId: sender.userId }
    : { conversation: GROUP_CONVERSATION };
  const [count, messages] = await Promise.all([
    // Unfiltered, seq has no gaps and nothing is deleted, so last_seq is the count without a scan.
    sender ? ctx.db.chatMessage.count({ where }) : lastSeq(ctx.db, GROUP_CONVERSATION).then(Number),
    findPage(ctx.db, where, input),
  ]);
  return { count, list: toFrames(messages) };
}
