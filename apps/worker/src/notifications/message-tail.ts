import type { Queryable } from '@im/db';
import type { StoredMessage } from './recipients.ts';

/** The reads of stored messages and the durable cursor that the notifier runs on. */
export interface MessageTail {
  /** The cursor, made at the newest message on first use: history is never notified. */
  cursor(): Promise<bigint>;
  /** Moves the cursor forward (never back). */
  advance(to: bigint): Promise<void>;
  /** Up to `limit` messages with an id above `after`, in id order. */
  after(after: bigint, limit: number): Promise<StoredMessage[]>;
  /** The messages with `from < id <= to`, in id order. */
  between(from: bigint, to: bigint): Promise<StoredMessage[]>;
  /** How many messages have `from < id <= to`. */
  count(from: bigint, to: bigint): Promise<number>;
  /** The largest id in `(from, to]` of a message older than `settleMs`, or `from`. */
  settled(from: bigint, to: bigint, settleMs: number): Promise<bigint>;
}

interface Row {
  id: bigint | number | string;
  conversation: string;
  sender_id: string;
  username: string;
  msg_type: number;
  content: string;
  created_at: string | Date;
}

const COLUMNS = `m.id, m.conversation, m.sender_id, u.username, m.msg_type, m.content, m.created_at
  FROM chat_messages m JOIN users u ON u.user_id = m.sender_id`;

export function createMessageTail(sql: Queryable, name: string): MessageTail {
  return {
    async cursor() {
      const read = async () =>
        (await sql.query<Array<{ last_message_id: bigint }>>('SELECT last_message_id FROM notifier_cursors WHERE name = ?', [name]))[0];
      const found = await read();
      if (found) return BigInt(found.last_message_id);
      await sql.query(
        `INSERT IGNORE INTO notifier_cursors (name, last_message_id, updated_at)
         SELECT ?, COALESCE(MAX(id), 0), UTC_TIMESTAMP(3) FROM chat_messages`,
        [name],
      );
      return BigInt((await read())!.last_message_id);
    },
    async advance(to) {
      await sql.query('UPDATE notifier_cursors SET last_message_id = ?, updated_at = UTC_TIMESTAMP(3) WHERE name = ? AND last_message_id < ?', [
        to,
        name,
        to,
      ]);
    },
    async after(after, limit) {
      const rows = await sql.query<Row[]>(`SELECT ${COLUMNS} WHERE m.id > ? ORDER BY m.id LIMIT ?`, [after, limit]);
      return rows.map(toMessage);
    },
    async between(from, to) {
      const rows = await sql.query<Row[]>(`SELECT ${COLUMNS} WHERE m.id > ? AND m.id <= ? ORDER BY m.id`, [from, to]);
      return rows.map(toMessage);
    },
    async count(from, to) {
      const [row] = await sql.query<Array<{ n: bigint | number }>>('SELECT COUNT(*) AS n FROM chat_messages WHERE id > ? AND id <= ?', [from, to]);
      return Number(row?.n ?? 0);
    },
    async settled(from, to, settleMs) {
      const [row] = await sql.query<Array<{ id: bigint | number | null }>>(
        `SELECT MAX(id) AS id FROM chat_messages
         WHERE id > ? AND id <= ? AND created_at <= UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND`,
        [from, to, settleMs * 1000],
      );
      return row?.id === null || row?.id === undefined ? from : BigInt(row.id);
    },
  };
}

function toMessage(row: Row): StoredMessage {
  return {
    id: String(row.id),
    conversation: row.conversation,
    senderId: row.sender_id,
    username: row.username,
    msgType: Number(row.msg_type),
    content: row.content,
    date: utcIso(row.created_at),
  };
}

/** DATETIME(3) in UTC (the runner reads dates as strings) to ISO 8601. */
export function utcIso(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : `${value.replace(' ', 'T')}Z`;
}
