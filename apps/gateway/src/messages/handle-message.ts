import type { RawData } from 'ws';
import { fileInfo, type ChatReader, type MessageWriter, type StoredFrame } from '@im/db';
import type { Logger } from '@im/logger';
import { AppError, chatFrame, ErrorCode, MsgType, type ChatFrame } from '@im/protocol';
import type { Connection, ConnectionSession } from '../connections/connection.ts';
import { errorFields } from '../error-fields.ts';
import type { Publisher } from '../fanout/publisher.ts';
import type { GatewayMetrics } from '../http/metrics.ts';
import { readClientFrame } from './client-frame.ts';
import type { PrivateChats } from './private-chats.ts';
import { onlineCountFor, type OnlineCountSources } from './online-count.ts';
import { resolveFile, type ResolvedFile } from './resolve-file.ts';

export interface MessageContext extends OnlineCountSources {
  reader: Pick<ChatReader, 'file' | 'frameById'>;
  writer: MessageWriter;
  privateChats: Pick<PrivateChats, 'ensure'>;
  publisher: Pick<Publisher, 'stored' | 'transient'>;
  logger: Logger;
  metrics: GatewayMetrics;
  maxContentChars: number;
}

/** Answers the sender (only) with an error frame and counts why. */
export type Refuse = (reason: string, code: number, content: string) => void;

/**
 * One admitted client frame: validate, store, then publish and deliver. Problems go back to the
 * sender only, as a `msg_type: 1` frame with an envelope code; nothing here closes another
 * user's socket.
 */
export async function handleMessage(ctx: MessageContext, connection: Connection, raw: RawData, isBinary: boolean): Promise<void> {
  const read = readClientFrame(raw, isBinary, ctx.maxContentChars);
  const refuse: Refuse = (reason, code, content) => {
    ctx.metrics.framesRejected.inc({ reason });
    connection.sendError(code, content, read.clientMsgId);
  };
  if (!read.ok) return refuse(read.reason, read.code, read.message);
  const { frame, content } = read;

  const { session } = connection;
  let file: ResolvedFile | undefined;
  if (frame.msg_type !== MsgType.Text) {
    try {
      file = await resolveFile(ctx.reader, { userId: session.user.userId, conversation: session.room }, frame);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return refuse('file', err.code, err.message);
    }
  }
  const onlineCount = await onlineCountFor(ctx, session.room);

  if (frame.msg_type === MsgType.FileProgress) {
    // Progress and download notices are relayed, not stored: they only matter while both are here.
    const notice = fileNotice(session, content, onlineCount, file!);
    if (!(await ctx.publisher.transient(session.room, JSON.stringify(notice)))) {
      refuse('publish', ErrorCode.ServiceUnavailable, '通知未能送达，请稍后再试');
    }
    return;
  }
  const answerDuplicate = (original: StoredFrame) => void connection.send(original.bytes);
  await storeAndPublish(ctx, session, { msgType: frame.msg_type, content, clientMsgId: read.clientMsgId, file, onlineCount }, refuse, answerDuplicate);
}

export interface Accepted {
  msgType: number;
  content: string;
  clientMsgId: string | undefined;
  file: ResolvedFile | undefined;
  onlineCount: number;
}

/**
 * Stores a checked message, then publishes it and delivers it here; a resend of a stored
 * `client_msg_id` is answered with the original (`answerDuplicate`), for the sender only.
 */
export async function storeAndPublish(
  ctx: MessageContext,
  session: ConnectionSession,
  message: Accepted,
  refuse: Refuse,
  answerDuplicate: (original: StoredFrame) => void,
): Promise<void> {
  let written;
  try {
    if (session.target) await ctx.privateChats.ensure(session.user.userId, session.target.userId);
    written = await ctx.writer.write({
      conversation: session.room,
      senderId: session.user.userId,
      targetId: session.target?.userId ?? null,
      msgType: message.msgType,
      content: message.content,
      clientMsgId: message.clientMsgId ?? null,
      fileId: message.file?.id ?? null,
      onlineCount: message.onlineCount,
    });
  } catch (err) {
    ctx.logger.error({ err: errorFields(err), room: session.room }, 'storing a message failed');
    return refuse('store', ErrorCode.ServiceUnavailable, '消息未能保存，请稍后重发（带相同 client_msg_id 不会重复）');
  }

  if (written.duplicate) {
    // A resend: the sender gets the original back as its acknowledgement; nobody else sees it again.
    const original = await ctx.reader.frameById(written.id);
    if (original) answerDuplicate(original);
    return;
  }
  ctx.metrics.messagesIn.inc();
  const frameJson = JSON.stringify(
    chatFrame(
      {
        id: written.id,
        msgType: message.msgType,
        content: message.content,
        createdAt: written.createdAt,
        onlineCount: message.onlineCount,
        clientMsgId: message.clientMsgId ?? null,
      },
      session.user,
      session.target,
      message.file ? fileInfo(message.file) : undefined,
    ),
  );
  // Published, then delivered to this gateway's sockets (see Publisher); this socket's next frame
  // waits for the delivery, which keeps the sender's messages in order here.
  await ctx.publisher.stored(session.room, { seq: written.seq, id: Number(written.id), storedAtMs: written.createdAt.getTime() }, frameJson);
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
