import { createMessageWriter, ensurePrivateChat, type MessageWriter, type SqlRunner } from '@im/db';
import { MsgType, parseConversation } from '@im/protocol';

export interface StoredMessage {
  id: number;
  conversation: string;
}

/**
 * Stores messages as a gateway does: the pair's membership rows for a private chat, the message
 * through the real writer, and the conversation's activity time. (On the gateway-core branch the
 * writer sets last_activity_at with its bump; until that is merged here, this sets it the same way.)
 */
export class MessageStore {
  private readonly writer: MessageWriter;

  constructor(
    url: string,
    private readonly sql: SqlRunner,
  ) {
    this.writer = createMessageWriter({ url, connectionLimit: 2 });
  }

  async send(conversation: string, senderId: string, content = 'hi', fileId: bigint | null = null, msgType: number = MsgType.Text): Promise<StoredMessage> {
    const parsed = parseConversation(conversation);
    if (!parsed) throw new Error(`not a conversation: ${conversation}`);
    const targetId = parsed.kind === 'private' ? parsed.userIds.find((id) => id !== senderId)! : null;
    if (targetId) await ensurePrivateChat(this.sql, senderId, targetId);
    const result = await this.writer.write({ conversation, senderId, targetId, msgType, content, clientMsgId: null, fileId, onlineCount: 1 });
    if (result.duplicate) throw new Error('unexpected resend');
    await this.sql.query('UPDATE conversations SET last_activity_at = GREATEST(last_activity_at, ?) WHERE conversation = ?', [
      result.createdAt.toISOString().replace('T', ' ').replace('Z', ''),
      conversation,
    ]);
    return { id: Number(result.id), conversation };
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
