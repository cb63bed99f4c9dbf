import { createPool, type Pool, type PoolConnection } from 'mariadb';
import { poolConfigFromUrl } from './connection-options.ts';
import type { NewChatMessage } from './chat-messages.ts';

/** What the writer answers for each message. */
export type WriteResult =
  | { duplicate: false; id: bigint; seq: number; createdAt: Date }
  /** The sender already stored this client_msg_id: nothing was written; `id` is the original. */
  | { duplicate: true; id: bigint };

export interface MessageWriter {
  /** Stores one message; resolves once its batch is committed. */
  write(message: NewChatMessage): Promise<WriteResult>;
  close(): Promise<void>;
}

export interface MessageWriterOptions {
  url: string;
  /** @default 4 */
  connectionLimit?: number;
  /** Most messages committed in one transaction. @default 200 */
  maxBatch?: number;
}

interface Pending {
  message: NewChatMessage;
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

/**
 * The chat hot path's writer: messages that arrive while a commit is under way are stored
 * together in the next transaction, so a gateway pays one commit (one fsync) per batch, not per
 * message. Writes through the mariadb driver directly, because Prisma costs about a millisecond
 * of CPU per query and this path runs for every message.
 *
 * Per batch: conversations are bumped with one statement (rows locked in sorted order, so two
 * gateways' batches cannot deadlock), each message takes the next seq of its conversation, and
 * one multi-row INSERT stores them in seq order — InnoDB hands a multi-row insert consecutive
 * ids, so ids grow with seqs. The conversation rows stay locked until commit, which keeps other
 * writers of those conversations behind us: seqs have no gaps and ids follow them.
 */
export function createMessageWriter(options: MessageWriterOptions): MessageWriter {
  const maxBatch = options.maxBatch ?? 200;
  const pool = createPool({
    ...poolConfigFromUrl(options.url, options.connectionLimit ?? 4),
    insertIdAsNumber: false,
  });
  let queue: Pending[] = [];
  let active = 0;
  // Several batches may be in flight (different conversations commit in parallel); messages that
  // arrive meanwhile gather into the next one.
  const maxActive = Math.max(1, (options.connectionLimit ?? 4) - 1);

  function pump(): void {
    while (queue.length > 0 && active < maxActive) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      active += 1;
      void runBatch(pool, batch).finally(() => {
        active -= 1;
        pump();
      });
    }
  }

  return {
    write(message) {
      return new Promise<WriteResult>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        // Collect whatever else arrives in this tick before committing.
        if (queue.length === 1) queueMicrotask(pump);
        else if (queue.length >= maxBatch) pump();
      });
    },
    async close() {
      while (queue.length > 0 || active > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await pool.end();
    },
  };
}

/** Deadlocks and lock wait timeouts are retried: InnoDB rolled the whole batch back. */
const RETRIES = 3;

async function runBatch(pool: Pool, batch: Pending[]): Promise<void> {
  try {
    const results = await withRetries(() => storeBatch(pool, batch.map((p) => p.message)));
    batch.forEach((pending, i) => pending.resolve(results[i]!));
  } catch (err) {
    if (batch.length === 1) {
      batch[0]!.reject(err);
      return;
    }
    // One bad message (or a client_msg_id that raced in from another gateway) must not sink the
    // others: store them one by one, so only that one fails or turns out a duplicate.
    for (const pending of batch) {
      try {
        pending.resolve((await withRetries(() => storeBatch(pool, [pending.message])))[0]!);
      } catch (single) {
        pending.reject(single);
      }
    }
  }
}

async function storeBatch(pool: Pool, messages: NewChatMessage[]): Promise<WriteResult[]> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    try {
      const results = await storeInTransaction(conn, messages);
      await conn.commit();
      return results;
    } catch (err) {
      await conn.rollback().catch(() => {});
      throw err;
    }
  } finally {
    await conn.release();
  }
}

async function storeInTransaction(conn: PoolConnection, messages: NewChatMessage[]): Promise<WriteResult[]> {
  const results: Array<WriteResult | undefined> = new Array(messages.length);

  // Resends: answer with the stored original; repeats inside this batch wait for the first.
  const withClientId = messages.filter((m) => m.clientMsgId !== null);
  const existing = new Map<string, bigint>();
  if (withClientId.length > 0) {
    const rows: Array<{ id: bigint; sender_id: string; client_msg_id: string }> = await conn.query(
      `SELECT id, sender_id, client_msg_id FROM chat_messages WHERE (sender_id, client_msg_id) IN (${withClientId
        .map(() => '(?, ?)')
        .join(', ')})`,
      withClientId.flatMap((m) => [m.senderId, m.clientMsgId]),
    );
    for (const row of rows) existing.set(`${row.sender_id}\u0000${row.client_msg_id}`, BigInt(row.id));
  }
  const firstInBatch = new Map<string, number>();
  const toInsert: number[] = [];
  messages.forEach((m, i) => {
    if (m.clientMsgId === null) return void toInsert.push(i);
    const key = `${m.senderId}\u0000${m.clientMsgId}`;
    const original = existing.get(key);
    if (original !== undefined) results[i] = { duplicate: true, id: original };
    else if (firstInBatch.has(key)) results[i] = undefined; // filled after insert
    else {
      firstInBatch.set(key, i);
      toInsert.push(i);
    }
  });

  if (toInsert.length > 0) {
    // Bump every conversation at once, in sorted order (consistent lock order across gateways).
    const perConversation = new Map<string, number>();
    for (const i of toInsert) perConversation.set(messages[i]!.conversation, (perConversation.get(messages[i]!.conversation) ?? 0) + 1);
    const conversations = [...perConversation.keys()].sort();
    await conn.query(
      `INSERT INTO conversations (conversation, last_seq) VALUES ${conversations.map(() => '(?, ?)').join(', ')}
       ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)`,
      conversations.flatMap((c) => [c, perConversation.get(c)]),
    );
    const seqRows: Array<{ conversation: string; last_seq: bigint | number }> = await conn.query(
      `SELECT conversation, last_seq FROM conversations WHERE conversation IN (${conversations.map(() => '?').join(', ')})`,
      conversations,
    );
    const nextSeq = new Map(
      seqRows.map((row) => [row.conversation, Number(row.last_seq) - perConversation.get(row.conversation)! + 1]),
    );

    // Insert in (conversation, seq) order so consecutive ids follow seqs within each conversation.
    const createdAt = new Date();
    const rows = toInsert
      .map((i) => ({ i, message: messages[i]! }))
      .sort((a, b) => (a.message.conversation < b.message.conversation ? -1 : a.message.conversation > b.message.conversation ? 1 : a.i - b.i))
      .map((entry) => {
        const seq = nextSeq.get(entry.message.conversation)!;
        nextSeq.set(entry.message.conversation, seq + 1);
        return { ...entry, seq };
      });
    const inserted: { insertId: bigint | number } = await conn.query(
      `INSERT INTO chat_messages (seq, conversation, sender_id, target_id, msg_type, content, client_msg_id, file_id, online_count, created_at)
       VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      rows.flatMap(({ message, seq }) => [
        seq,
        message.conversation,
        message.senderId,
        message.targetId,
        message.msgType,
        message.content,
        message.clientMsgId,
        message.fileId,
        message.onlineCount,
        mysqlDateTime(createdAt),
      ]),
    );
    const firstId = BigInt(inserted.insertId);
    rows.forEach(({ i, seq }, k) => {
      results[i] = { duplicate: false, id: firstId + BigInt(k), seq, createdAt };
    });
  }

  // Repeats of a client_msg_id first seen in this batch answer with that message.
  messages.forEach((m, i) => {
    if (results[i] !== undefined) return;
    const first = results[firstInBatch.get(`${m.senderId}\u0000${m.clientMsgId}`)!]!;
    results[i] = { duplicate: true, id: first.id };
  });
  return results as WriteResult[];
}

/** DATETIME(3) text in UTC, the way Prisma stores and reads it. */
function mysqlDateTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const errno = (err as { errno?: number })?.errno;
      if (attempt >= RETRIES || (errno !== 1213 && errno !== 1205)) throw err;
    }
  }
}
