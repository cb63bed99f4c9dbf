import { createConnection } from 'mariadb';
import { poolConfigFromUrl } from '@im/db';

/** One row of `chat_messages`, as a test compares it with what clients received. */
export interface StoredMessage {
  id: number;
  seq: number;
  senderId: string;
  content: string;
  clientMsgId: string | null;
}

/** Every stored message of a conversation, in id order, read straight from MySQL. */
export async function storedMessages(databaseUrl: string, conversation = 'group'): Promise<StoredMessage[]> {
  const { connectionLimit: _limit, acquireTimeout: _acquire, ...settings } = poolConfigFromUrl(databaseUrl);
  const conn = await createConnection(settings);
  try {
    const rows: Array<{ id: bigint; seq: bigint; sender_id: string; content: string; client_msg_id: string | null }> =
      await conn.query(
        'SELECT id, seq, sender_id, content, client_msg_id FROM chat_messages WHERE conversation = ? ORDER BY id',
        [conversation],
      );
    return rows.map((row) => ({
      id: Number(row.id),
      seq: Number(row.seq),
      senderId: row.sender_id,
      content: row.content,
      clientMsgId: row.client_msg_id,
    }));
  } finally {
    await conn.end();
  }
}
