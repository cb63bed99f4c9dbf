import type { RawData } from 'ws';
import type { Broker } from '@im/bus';
import { fileInfo, messageWithPeople, toChatFrame, type Db, type MessageWriter } from '@im/db';
import type { Logger } from '@im/logger';
import type { Presence } from '@im/presence';
import { AppError, chatFrame, CloseCode, ErrorCode, MsgType, type ChatFrame } from '@im/protocol';
import type { Connection, ConnectionSession } from '../connections/connection.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import { roomChannel, errorFields, type Rooms } from '../rooms/rooms.ts';
import { encodeMessage, encodeTransient } from '../rooms/wire.ts';
import { resolveFile, type ResolvedFile } from './resolve-file.ts';
import { clientFrameSchema } from './client-frame.ts';

export interface MessageContext {
  db: Db;
  writer: MessageWriter;
  broker: Broker;
  presence: Presence;
  rooms: Rooms;
  logger: Logger;
  metrics: GatewayMetrics;
  maxContentChars: number;
}

/** Refused frames in a row before a flooding client is disconnected. */
const MAX_FLOOD_STRIKES = 50;

/**
 * Runs as each frame arrives, before it is queued: a flooding client is answered at once and its
 * frames never pile up in memory. Returns whether the frame may be handled.
 */
export function admitFrame(ctx: MessageContext, connection: Connection): boolean {
  if (connection.allowMessage()) {
    connection.floodStrikes = 0;
    return true;
  }
  connection.floodStrikes += 1;
  ctx.metrics.framesRejected.inc({ reason: 'rate' });
  if (connection.floodStrikes > MAX_FLOOD_STRIKES) connection.close(CloseCode.PolicyViolation, 'too many messages');
  else connection.sendError(ErrorCode.TooManyRequests, '发送过于频繁，请稍后再试');
  return false;
}

/**
 * One admitted client frame: validate, store, then fan out. Problems go back to the sender only, as a
 * `msg_type: 1` frame with an envelope code; nothing here closes another user's socket.
 */
export async function handleMessage(ctx: MessageContext, connection: Connection, raw: RawData, isBinary: boolean) {
  const refuse = (reason: string, code: number, content: string, clientMsgId?: string) => {
    ctx.metrics.framesRejected.inc({ reason });
    connection.sendError(code, content, clientMsgId);
  };

  if (isBinary) return refuse('binary', ErrorCode.InvalidParameter, '只接受 JSON 文本帧');
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawText(raw));
  } catch {
    return refuse('json', ErrorCode.InvalidParameter, '消息不是合法的 JSON');
  }
  const result = clientFrameSchema.safeParse(parsed);
  const clientMsgId = clientMsgIdOf(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return refuse('invalid', ErrorCode.InvalidParameter, `${issue.path.join('.') || '消息'}: ${issue.message}`, clientMsgId);
  }
  const frame = result.data;
  const content = frame.content.trim();
  if (frame.msg_type === MsgType.Text && content.length === 0) {
    return refuse('empty', ErrorCode.InvalidParameter, 'content 不能为空', clientMsgId);
  }
  if ([...content].length > ctx.maxContentChars) {
    return refuse('long', ErrorCode.PayloadRejected, `content 最多 ${ctx.maxContentChars} 个字符`, clientMsgId);
  }

  const { session } = connection;
  let file: ResolvedFile | undefined;
  if (frame.msg_type !== MsgType.Text) {
    try {
      file = await resolveFile(ctx.db, session, frame);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return refuse('file', err.code, err.message, clientMsgId);
    }
  }
  const onlineCount = await onlineCountFor(ctx, session.room);

  if (frame.msg_type === MsgType.FileProgress) {
    // Progress and download notices are relayed, not stored: they only matter while both are here.
    const notice = fileNotice(session, content, onlineCount, file!);
    await ctx.broker
      .publish(roomChannel(session.room), encodeTransient(JSON.stringify(notice)))
      .catch(() => refuse('publish', ErrorCode.ServiceUnavailable, '通知未能送达，请稍后再试', clientMsgId));
    return;
  }

  let written;
  try {
    written = await ctx.writer.write({
      conversation: session.room,
      senderId: session.user.userId,
      targetId: session.target?.userId ?? null,
      msgType: frame.msg_type,
      content,
      clientMsgId: frame.client_msg_id ?? null,
      fileId: file?.id ?? null,
      onlineCount,
    });
  } catch (err) {
    ctx.logger.error({ err: errorFields(err), room: session.room }, 'storing a message failed');
    return refuse('store', ErrorCode.ServiceUnavailable, '消息未能保存，请稍后重发（带相同 client_msg_id 不会重复）', clientMsgId);
  }

  if (written.duplicate) {
    // A resend: the sender gets the original back as its acknowledgement; nobody else sees it again.
    const original = await ctx.db.chatMessage.findUnique({ where: { id: written.id }, include: messageWithPeople });
    if (original) connection.send(Buffer.from(JSON.stringify(toChatFrame(original))));
    return;
  }
  ctx.metrics.messagesIn.inc();
  const frameJson = JSON.stringify(
    chatFrame(
      { id: written.id, msgType: frame.msg_type, content, createdAt: written.createdAt, onlineCount, clientMsgId: frame.client_msg_id ?? null },
      session.user,
      session.target,
      file ? fileInfo(file) : undefined,
    ),
  );
  const { seq } = written;
  // Published before this gateway writes to its own sockets, so the other gateways fan out
  // while this one does: a big room's local loop is thousands of socket writes, and publishing
  // after it made every remote recipient wait for it. Not awaited: while Redis is away a publish
  // waits out reconnect attempts, and the socket's next frames must not wait behind it. One
  // connection keeps this gateway's publishes in order, and receivers order by seq anyway.
  ctx.broker.publish(roomChannel(session.room), encodeMessage(seq, written.createdAt.getTime(), frameJson)).catch((err) => {
    // Stored, so not lost: other gateways find it in MySQL on their next resync.
    ctx.metrics.redisErrors.inc({ operation: 'publish' });
    ctx.logger.warn({ err: errorFields(err), room: session.room }, 'publish failed; peers will resync');
  });
  // ioredis writes its pipeline from a setImmediate queued by the publish above; the local
  // delivery queues behind it, so the PUBLISH is on the wire first. This socket's next frame
  // waits for the delivery, which keeps the sender's messages in order here.
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      ctx.rooms.acceptLocal(session.room, seq, Buffer.from(frameJson));
      resolve();
    }),
  );
}

/** How long a message waits for the cluster-wide online count before settling for a local one. */
const ONLINE_COUNT_WAIT_MS = 250;

/**
 * The room's cluster-wide online count from presence. While Redis is unhealthy (or slow), the
 * distinct users connected here stand in: never below 1, since the sender is online.
 */
async function onlineCountFor(ctx: MessageContext, room: string): Promise<number> {
  const local = () => new Set([...(ctx.rooms.feed(room)?.connections ?? [])].map((c) => c.userId)).size || 1;
  if (!ctx.broker.isHealthy()) return local();
  let timer: NodeJS.Timeout | undefined;
  const fallback = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(local()), ONLINE_COUNT_WAIT_MS);
  });
  try {
    return await Promise.race([ctx.presence.onlineCount(room).catch(local), fallback]);
  } finally {
    clearTimeout(timer);
  }
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw as ArrayBuffer).toString('utf8');
}

/** The client's id for the message, if it sent a usable one, so errors can name the message. */
function clientMsgIdOf(parsed: unknown): string | undefined {
  const value = (parsed as { client_msg_id?: unknown } | null)?.client_msg_id;
  return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(value) ? value : undefined;
}

/** A msg_type 6 frame: the live frame's shape, with the file's metadata, and no id (not stored). */
function fileNotice(session: ConnectionSession, content: string, onlineCount: number, file: ResolvedFile): Omit<ChatFrame, 'id'> {
  const notice: Omit<ChatFrame, 'id'> = {
    user_id: session.user.userId,
    username: session.user.username,
    avatar: session.user.avatar,
    msg_type: MsgType.FileProgress,
    content,
    date: new Date().toISOString(),
    online_count: onlineCount,
    file: fileInfo(file),
  };
  if (session.target) {
    notice.target_id = session.target.userId;
    notice.target_name = session.target.username;
    notice.target_avatar = session.target.avatar;
  }
  return notice;
}
