import type { Db } from '@im/db';
import { errors, privateConversation } from '@im/protocol';
import type { ApiContext } from '../services.ts';
import type { PrivateListInput } from './schemas.ts';
import { historyPage } from './find-page.ts';
import type { HistoryPage } from './to-frames.ts';

/**
 * Private history of the caller: with one peer (both directions of that conversation), or with
 * every peer when neither `username` nor `target_id` is given.
 */
export async function listPrivateHistory(ctx: ApiContext, callerId: string, input: PrivateListInput): Promise<HistoryPage> {
  if (input.targetId && !input.username) {
    // The id alone names the conversation, so the page is read while the peer's existence is
    // checked, instead of after: one round trip less on the common path.
    const [exists, page] = await Promise.all([
      userExists(ctx.db, input.targetId),
      historyPage(ctx.history, { conversation: privateConversation(callerId, input.targetId) }, input),
    ]);
    if (!exists) throw errors.notFound('用户不存在');
    return page;
  }
  const peerId = await resolvePeer(ctx.db, input);
  return historyPage(
    ctx.history,
    peerId ? { conversation: privateConversation(callerId, peerId) } : { privateOf: callerId },
    input,
  );
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

async function userExists(db: Db, userId: string): Promise<boolean> {
  const rows = await db.$queryRaw<unknown[]>`SELECT 1 FROM users WHERE user_id = ${userId}`;
  return rows.length > 0;
}
