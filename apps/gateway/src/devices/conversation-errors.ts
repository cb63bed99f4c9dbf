import { systemFrame } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';

/**
 * A `msg_type: 1` frame to this socket only, naming the conversation it concerns (when it names a
 * valid one) and the message (`client_msg_id`) when there was one. `code: 0` with no conversation
 * is the "caught up" notice.
 */
export function sendConversationNotice(connection: Connection, code: number, content: string, conversation?: string, clientMsgId?: string): void {
  const frame = systemFrame(code, content, clientMsgId);
  connection.send(Buffer.from(JSON.stringify(conversation === undefined ? frame : { conversation, ...frame })));
}

/** What a resume ends with, once every conversation it named is caught up. */
export const CAUGHT_UP = '已同步到最新消息';
