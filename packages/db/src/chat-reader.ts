import { Prisma } from './generated/client.ts';
import { toChatFrame } from './chat-frames.ts';
import { DEFAULT_MYSQL_DEADLINES, poolConfigFromUrl, type MysqlDeadlines } from './connection-options.ts';
import { createDeadlinePool } from './deadline-pool.ts';
import { MESSAGE_COLUMNS, MESSAGE_JOINS, pageRows, toMessage, type PageRow, type Run } from './history-queries.ts';

/** A stored message as gateways send it: its place in the conversation, its id, the frame's bytes. */
export interface StoredFrame {
  seq: number;
  id: number;
  /** The frame's JSON, exactly what clients receive. */
  bytes: Buffer;
}

/** Where a conversation stands: its newest stored message (seq 0 and id 0 when it has none). */
export interface ConversationHead {
  seq: number;
  id: number;
}

/** Where a stored private message sits: enough to find the feed that owes it to someone. */
export interface PrivateMessageRef {
  conversation: string;
  seq: number;
  id: number;
}

/** An uploaded file, with whom it belongs to, for checking that a frame may name it. */
export interface ChatFile {
  id: bigint;
  fileName: string;
  originalName: string;
  size: bigint;
  fileType: string;
  mimeType: string;
  ownerId: string;
  /** The private peer it was uploaded for; null for a group or room file. */
  targetId: string | null;
  /** The conversation it was uploaded for (null on rows written without it): see `fileConversation`. */
  conversation: string | null;
}

/** Who a user id is, as frames show it. */
export interface UserSummaryRow {
  userId: string;
  username: string;
  avatar: string;
}

/**
 * Everything a gateway reads from MySQL, each in one statement. Stored messages come back as
 * frame bytes, encoded in one place (storedFrame below), so a message looks the same whether it
 * arrives live, fills a gap or catches a client up.
 */
export interface ChatReader {
  /** Throws when MySQL does not answer a trivial query (start-up, /readyz). */
  ping(): Promise<void>;
  /** The conversation's newest stored message. */
  head(conversation: string): Promise<ConversationHead>;
  /** The latest stored seq of many conversations (missing ones have no messages). */
  lastSeqs(conversations: string[]): Promise<Map<string, number>>;
  /** `head` of many conversations in one statement (missing ones have no messages): a socket joining 500 rooms. */
  heads(conversations: string[]): Promise<Map<string, ConversationHead>>;
  /** The newest message id of all (0 when there is none): where a scan of new messages starts. */
  lastMessageId(): Promise<number>;
  /** Private messages with id > `afterId`, by id, at most `limit`: the check for stored messages whose publish never came. */
  privateMessagesAfter(afterId: number, limit: number): Promise<PrivateMessageRef[]>;
  /** The lowest seq below `beforeSeq` among the conversation's messages with id > `afterId` (undefined: none). */
  firstSeqAfterId(conversation: string, afterId: number, beforeSeq: number): Promise<number | undefined>;
  /** Stored messages with seq ≥ `fromSeq`, in order, at most `limit`: fills a gap in live delivery. */
  framesFromSeq(conversation: string, fromSeq: number, limit: number): Promise<StoredFrame[]>;
  /** Stored messages with id > `afterId`, oldest first, at most `limit`: a catch-up page after `last_id`. */
  framesAfterId(conversation: string, afterId: bigint, limit: number): Promise<StoredFrame[]>;
  /** The seq of the conversation's newest message with id ≤ `id` (0 when there is none). */
  seqThrough(conversation: string, id: bigint): Promise<number>;
  /** One stored message by id (a resend is answered with the original). */
  frameById(id: bigint): Promise<StoredFrame | undefined>;
  /** An uploaded file by its server-made name or its id. */
  file(reference: { name: string } | { id: bigint }): Promise<ChatFile | undefined>;
  /** The users with these ids; unknown ids are simply absent. */
  users(userIds: string[]): Promise<UserSummaryRow[]>;
  close(): Promise<void>;
}

export interface ChatReaderOptions {
  /** `mysql://user:pass@host:port/db` */
  url: string;
  /** Connections opened on demand (config: mysql.gateway_reader_connections). */
  connectionLimit: number;
  /** @default DEFAULT_MYSQL_DEADLINES (settings.yaml's) */
  deadlines?: MysqlDeadlines;
}

/**
 * The reader on the mariadb driver directly: Prisma spends more CPU around a statement than
 * MariaDB spends answering it (about 2 ms against 0.45 ms for a history page, ~120 µs per user
 * of a findMany), and catch-up pages and user lookups come by the thousand in a reconnect storm.
 */
export function createChatReader(options: ChatReaderOptions): ChatReader {
  const deadlines = options.deadlines ?? DEFAULT_MYSQL_DEADLINES;
  const pool = createDeadlinePool(
    {
      ...poolConfigFromUrl(options.url, options.connectionLimit, deadlines),
      // DATETIME(3) as text, read as UTC by toMessage: what Prisma does, whatever the process's time zone.
      dateStrings: true,
    },
    deadlines.query_timeout_ms,
  );
  const run: Run = (query) => pool.query(query.sql, query.values);

  return {
    async ping() {
      await pool.query('SELECT 1');
    },

    async head(conversation) {
      const rows: Array<{ seq: bigint; id: bigint }> = await pool.query(
        'SELECT seq, id FROM chat_messages WHERE conversation = ? ORDER BY seq DESC LIMIT 1',
        [conversation],
      );
      return rows[0] ? { seq: Number(rows[0].seq), id: Number(rows[0].id) } : { seq: 0, id: 0 };
    },

    async lastSeqs(conversations) {
      if (conversations.length === 0) return new Map();
      const rows: Array<{ conversation: string; last_seq: bigint }> = await pool.query(
        `SELECT conversation, last_seq FROM conversations WHERE conversation IN (${conversations.map(() => '?').join(', ')})`,
        conversations,
      );
      return new Map(rows.map((row) => [row.conversation, Number(row.last_seq)]));
    },

    async heads(conversations) {
      if (conversations.length === 0) return new Map();
      // last_seq and its message commit together (message-writer.ts), so one statement sees both.
      const rows: Array<{ conversation: string; last_seq: bigint; id: bigint | null }> = await pool.query(
        `SELECT c.conversation, c.last_seq, m.id FROM conversations c
         LEFT JOIN chat_messages m ON m.conversation = c.conversation AND m.seq = c.last_seq
         WHERE c.conversation IN (${conversations.map(() => '?').join(', ')})`,
        conversations,
      );
      return new Map(rows.map((row) => [row.conversation, { seq: Number(row.last_seq), id: Number(row.id ?? 0) }]));
    },

    async lastMessageId() {
      const rows: Array<{ id: bigint | null }> = await pool.query('SELECT MAX(id) AS id FROM chat_messages');
      return Number(rows[0]?.id ?? 0);
    },

    async privateMessagesAfter(afterId, limit) {
      // The primary key's range, whatever the optimizer thinks of target_id's index: a few
      // seconds of messages, read in id order.
      const rows: Array<{ conversation: string; seq: bigint; id: bigint }> = await pool.query(
        'SELECT conversation, seq, id FROM chat_messages FORCE INDEX (PRIMARY) WHERE id > ? AND target_id IS NOT NULL ORDER BY id LIMIT ?',
        [afterId, limit],
      );
      return rows.map((row) => ({ conversation: row.conversation, seq: Number(row.seq), id: Number(row.id) }));
    },

    async firstSeqAfterId(conversation, afterId, beforeSeq) {
      const rows: Array<{ seq: bigint | null }> = await pool.query(
        'SELECT MIN(seq) AS seq FROM chat_messages FORCE INDEX (chat_messages_conversation_id_idx) WHERE conversation = ? AND id > ? AND seq < ?',
        [conversation, afterId, beforeSeq],
      );
      return rows[0]?.seq == null ? undefined : Number(rows[0].seq);
    },

    async framesFromSeq(conversation, fromSeq, limit) {
      const rows: PageRow[] = await run(Prisma.sql`
        SELECT ${MESSAGE_COLUMNS} FROM chat_messages m ${MESSAGE_JOINS}
        WHERE m.conversation = ${conversation} AND m.seq >= ${fromSeq}
        ORDER BY m.seq LIMIT ${limit}`);
      return rows.map(storedFrame);
    },

    async framesAfterId(conversation, afterId, limit) {
      return (await pageRows(run, { conversation }, { kind: 'after', afterId }, limit)).map(storedFrame);
    },

    async seqThrough(conversation, id) {
      const rows: Array<{ seq: bigint }> = await pool.query(
        'SELECT seq FROM chat_messages FORCE INDEX (chat_messages_conversation_id_idx) WHERE conversation = ? AND id <= ? ORDER BY id DESC LIMIT 1',
        [conversation, id],
      );
      return rows[0] ? Number(rows[0].seq) : 0;
    },

    async frameById(id) {
      const rows: PageRow[] = await run(Prisma.sql`SELECT ${MESSAGE_COLUMNS} FROM chat_messages m ${MESSAGE_JOINS} WHERE m.id = ${id}`);
      return rows[0] ? storedFrame(rows[0]) : undefined;
    },

    async file(reference) {
      const [column, value] = 'name' in reference ? ['file_name', reference.name] : ['id', reference.id];
      const rows: Array<{
        id: bigint;
        file_name: string;
        original_name: string;
        size: bigint;
        file_type: string;
        mime_type: string;
        owner_id: string;
        target_id: string | null;
        conversation: string | null;
      }> = await pool.query(
        `SELECT id, file_name, original_name, size, file_type, mime_type, owner_id, target_id, conversation FROM files WHERE ${column} = ?`,
        [value],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        id: BigInt(row.id),
        fileName: row.file_name,
        originalName: row.original_name,
        size: BigInt(row.size),
        fileType: row.file_type,
        mimeType: row.mime_type,
        ownerId: row.owner_id,
        targetId: row.target_id,
        conversation: row.conversation,
      };
    },

    async users(userIds) {
      if (userIds.length === 0) return [];
      const rows: Array<{ user_id: string; username: string; avatar: string }> = await pool.query(
        `SELECT user_id, username, avatar FROM users WHERE user_id IN (${userIds.map(() => '?').join(', ')})`,
        userIds,
      );
      return rows.map((row) => ({ userId: row.user_id, username: row.username, avatar: row.avatar }));
    },

    close: () => pool.end(),
  };
}

/** The one place a stored row becomes the bytes clients receive. */
function storedFrame(row: PageRow): StoredFrame {
  return { seq: Number(row.seq), id: Number(row.id), bytes: Buffer.from(JSON.stringify(toChatFrame(toMessage(row)))) };
}
