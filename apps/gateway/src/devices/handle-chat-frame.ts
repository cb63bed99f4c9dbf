import type { RawData } from 'ws';
import type { Connection } from '../connections/connection.ts';
import type { ChatContext } from './chat-context.ts';
import { ErrorCode } from '@im/protocol';
import { readChatClientFrame, type ChatClientFrame } from './chat-client-frame.ts';
import { chatSend } from './chat-send.ts';
import { sendConversationNotice } from './conversation-errors.ts';
import { moveRead, relayTyping } from './relays.ts';
import { resume } from './resume.ts';

/** One admitted frame of an `/api/chat` socket (docs/protocol-part2.md); errors go to this socket only. */
export async function handleChatFrame(ctx: ChatContext, connection: Connection, raw: RawData, isBinary: boolean): Promise<void> {
  const frame = readChatClientFrame(raw, isBinary);
  try {
    await dispatch(ctx, connection, frame);
  } catch (err) {
    // MySQL or Redis did not answer in time: this frame failed, the socket goes on.
    ctx.logger.warn({ err: { message: (err as Error)?.message }, kind: frame.kind }, 'chat frame failed');
    const conversation = 'conversation' in frame && typeof frame.conversation === 'object' ? frame.conversation.id : undefined;
    sendConversationNotice(connection, ErrorCode.ServiceUnavailable, '服务暂时不可用，请稍后再试', conversation);
  }
}

async function dispatch(ctx: ChatContext, connection: Connection, frame: ChatClientFrame): Promise<void> {
  switch (frame.kind) {
    case 'refused':
      ctx.metrics.framesRejected.inc({ reason: 'invalid' });
      return sendConversationNotice(connection, frame.code, frame.message, frame.conversation, frame.clientMsgId);
    case 'resume':
      return resume(ctx, connection, frame.conversations);
    case 'typing':
      return relayTyping(ctx, connection, frame.conversation);
    case 'read':
      return moveRead(ctx, connection, frame.conversation, frame.lastReadId);
    case 'send':
      return chatSend(ctx, connection, frame.conversation, frame.frame);
  }
}
