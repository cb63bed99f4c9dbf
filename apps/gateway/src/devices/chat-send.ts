import { roomRole } from '@im/db';
import { AppError, ErrorCode, MsgType, privatePeer, type ParsedConversation, type UserSummary } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';
import { prepareTextFrame } from '../connections/prepared-frame.ts';
import { checkClientFrame } from '../messages/client-frame.ts';
import { storeAndPublish, type Refuse } from '../messages/handle-message.ts';
import { onlineCountFor } from '../messages/online-count.ts';
import { resolveFile, type ResolvedFile } from '../messages/resolve-file.ts';
import type { ChatContext } from './chat-context.ts';
import { sendConversationNotice } from './conversation-errors.ts';
import { part2Frame } from './part2-frame.ts';

/** Who may write where: a refusal, or the private peer (undefined in rooms and the group). */
type WriteAccess = { ok: true; target?: UserSummary } | { ok: false; code: number; message: string };

/**
 * A message (4, 5, 7) on `/api/chat`: Part 1's checks and storage, in the conversation it names.
 * The echo to the sender is its acknowledgement, as in Part 1: it reaches the socket through the
 * conversation's feed like everyone else's copy.
 */
export async function chatSend(ctx: ChatContext, connection: Connection, conversation: ParsedConversation, raw: Record<string, unknown>): Promise<void> {
  const read = checkClientFrame(raw, ctx.maxContentChars);
  const refuse: Refuse = (reason, code, content) => {
    ctx.metrics.framesRejected.inc({ reason });
    sendConversationNotice(connection, code, content, conversation.id, read.clientMsgId);
  };
  if (!read.ok) return refuse(read.reason, read.code, read.message);
  const access = await mayWrite(ctx, connection, conversation);
  if (!access.ok) return refuse('conversation', access.code, access.message);

  let file: ResolvedFile | undefined;
  if (read.frame.msg_type !== MsgType.Text) {
    try {
      file = await resolveFile(ctx.reader, { userId: connection.userId, conversation: conversation.id }, read.frame);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return refuse('file', err.code, err.message);
    }
  }
  const session = { user: connection.user, room: conversation.id, target: access.target };
  const message = { msgType: read.frame.msg_type, content: read.content, clientMsgId: read.clientMsgId, file, onlineCount: await onlineCount(ctx, connection, conversation, access.target) };
  await storeAndPublish(ctx, session, message, refuse, (original) => {
    connection.deliverTransient(part2Frame(conversation.id, prepareTextFrame(original.bytes), ctx.sign));
  });
}

/**
 * The group once the client named it (it is delivered only then, so the echo could not arrive
 * otherwise); a room while a member; a private chat with any user who exists.
 */
async function mayWrite(ctx: ChatContext, connection: Connection, conversation: ParsedConversation): Promise<WriteAccess> {
  const following = ctx.devices.subscriptionsOf(connection).has(conversation.id);
  if (conversation.kind === 'group') {
    return following ? { ok: true } : { ok: false, code: ErrorCode.InvalidParameter, message: '先在同步帧 (msg_type 10) 中写明 group 再发送' };
  }
  const notFound = { ok: false, code: ErrorCode.NotFound, message: '会话不存在或你不在其中' } as const;
  if (conversation.kind === 'room') return following || (await roomRole(ctx.sql, conversation.id, connection.userId)) ? { ok: true } : notFound;
  const peerId = privatePeer(conversation, connection.userId);
  const peer = peerId === undefined ? undefined : await ctx.users.get(peerId);
  return peer ? { ok: true, target: peer } : notFound;
}

/**
 * `online_count` of the stored frame. Group: Part 1's count. Private: how many of the two are
 * online, on `/api/chat` or on Part 1's socket for the pair. Room: the members whose sockets
 * follow the room on this gateway (at least the sender): a cluster-wide count per room message
 * would cost a presence query per member.
 */
async function onlineCount(ctx: ChatContext, connection: Connection, conversation: ParsedConversation, target: UserSummary | undefined): Promise<number> {
  if (conversation.kind === 'room') {
    const recipients = ctx.feeds.feed(conversation.id)?.recipients ?? [];
    return new Set([...recipients].map((recipient) => recipient.userId)).add(connection.userId).size;
  }
  const part1 = await onlineCountFor(ctx, conversation.id);
  if (!target) return part1;
  const peerOnline = await withDeadline(ctx.userPresence.onlineUsers([target.userId]), 250).catch(() => undefined);
  return Math.max(part1, 1 + (peerOnline?.has(target.userId) ? 1 : 0));
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
