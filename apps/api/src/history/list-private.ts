import { lastSeq, type Db, type Prisma } from '@im/db';
import { errors, privateConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import type { PrivateListInput } from './schemas.ts';
import { findPage } from './find-page.ts';
import { toFrames, type HistoryPage } from './to-frames.ts';

/**
 * Private history of the caller: with one peer (both directions of that conversation), or with
 * every peer when neither `username` nor `target_id` is given.
 */
export async function listPrivateHistory(ctx: ApiContext, callerId: string, input: PrivateListInput): Promise<HistoryPage> {
  const peerId = await resolvePeer(ctx.db, input);
  let where: Prisma.ChatMessageWhereInput;
  let count: Promise<number>;
  if (peerId) {
    const conversation = privateConversation(callerId, peerId);
    where = { conversation };
    count = lastSeq(ctx.db, conversation).then(Number);
  } else {
    // Group messages have no target, so these are exactly the caller's private messages.
    where = { OR: [{ senderId: callerId, targetId: { not: null } }, { targetId: callerId }] };
    count = ctx.db.chatMessage.count({ where });
  }
  const [total, messages] = await Promise.all([count, findPage(ctx.db, where, input)]);
  return { count: total, list: toFrames(messages) };
}

/** The peer's user_id; undefined when none is named. Unknown → 1005; two names for two users → 1002. */
async function resolvePeer(db: Db, { username, targetId }: PrivateListInput): Promise<string | undefined> {
  const [byId, byName] = await Promise.all([
    targetId ? db.user.findUnique({ where: { userId: targetId }, select: { userId: true } }) : undefined,
    username ? db.user.findUnique({ where: { username }, select: { userId: true } }) : undefined,
  ]);
  if (byId === null || byName === null) throw errors.notFound('用户不存在');
  if (byId && byName && byId.userId !== byName.userId) {
    throw errors.invalidParameter('username 与 target_id 不是同一个用户');
  }
  return (byId ?? byName)?.userId;
}
