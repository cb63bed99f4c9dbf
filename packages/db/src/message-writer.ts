import type { PoolConnection } from 'mariadb';
import { DEFAULT_MYSQL_DEADLINES, poolConfigFromUrl, type MysqlDeadlines } from './connection-options.ts';
import { createDeadlinePool, isMysqlUnavailable, type DeadlinePool } from './deadline-pool.ts';
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
  /**
   * Each of a batch's two round trips must be answered within `query_timeout_ms`, or the batch
   * fails (its messages reject) and its connection is dropped, so MariaDB rolls it back unless
   * the COMMIT had already reached it: a client resending with its client_msg_id then gets the
   * stored message, never a second one.
   * @default DEFAULT_MYSQL_DEADLINES (settings.yaml's)
   */
  deadlines?: MysqlDeadlines;
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
 * one multi-row INSERT stores them in seq order; the ids InnoDB gave them are read back in the
 * same transaction. The conversation rows stay locked until commit, which keeps other writers of
 * those conversations behind us: seqs have no gaps and ids grow with them.
 */
export function createMessageWriter(options: MessageWriterOptions): MessageWriter {
  const maxBatch = options.maxBatch ?? 200;
  const deadlines = options.deadlines ?? DEFAULT_MYSQL_DEADLINES;
  const pool = createDeadlinePool(
    {
      ...poolConfigFromUrl(options.url, options.connectionLimit ?? 4, deadlines),
      // Every value below goes through `?` placeholders; statements are joined only to save round trips.
      multipleStatements: true,
    },
    deadlines.query_timeout_ms,
  );
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

async function runBatch(pool: DeadlinePool, batch: Pending[]): Promise<void> {
  try {
    const results = await withRetries(() => storeBatch(pool, batch.map((p) => p.message)));
    batch.forEach((pending, i) => pending.resolve(results[i]!));
  } catch (err) {
    // MySQL down or frozen: every message fails now, each within the deadline. Retrying them one
    // by one would keep the last of a large batch waiting a deadline per message before it.
    if (batch.length === 1 || isMysqlUnavailable(err)) {
      for (const pending of batch) pending.reject(err);
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

/**
 * One batch in two round trips: on this machine each round trip that wakes MariaDB costs the
 * gateway tens of microseconds of CPU, more than the SQL itself. MariaDB runs the statements of
 * a multi-statement packet in order and stops at the first error, so a failed INSERT never
 * reaches the COMMIT behind it; the transaction is then rolled back whole.
 *
 * 1. START TRANSACTION; look up resends; bump the conversations; read their new last_seq.
 * 2. INSERT the messages; read back their ids; COMMIT.
 *
 * The bump in 1 assumes no message is a resend. When the lookup finds one (a client resending
 * after a failure: rare), the transaction is rolled back and the batch planned again without it.
 */
async function storeBatch(pool: DeadlinePool, messages: NewChatMessage[]): Promise<WriteResult[]> {
  const conn = await pool.getConnection();
  try {
    let existing = new Map<string, bigint>();
    for (;;) {
      const plan = planBatch(messages, existing);
      if (plan.toInsert.length === 0) return plan.results as WriteResult[];
      try {
        const found = await bumpConversations(conn, plan, existing.size === 0 ? messages : []);
        if (found.size > 0) {
          await conn.query('ROLLBACK');
          existing = found;
          continue;
        }
        return await insertAndCommit(conn, messages, plan);
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {});
        throw err;
      }
    }
  } finally {
    await conn.release();
  }
}

interface BatchPlan {
  /** Filled for resends now; the rest after the insert. */
  results: Array<WriteResult | undefined>;
  /** Indexes of the messages to store, in (conversation, arrival) order. */
  toInsert: number[];
  /** Messages to store per conversation, conversations sorted (one lock order for all gateways). */
  perConversation: Map<string, number>;
  /** Index of the first message with each sender + client_msg_id in this batch. */
  firstInBatch: Map<string, number>;
  /** First seq of each conversation, once read. */
  nextSeq: Map<string, number>;
  /** When the batch is stored: every message's created_at and the conversations' activity time. */
  createdAt: Date;
  stamp: string;
}

const clientKey = (senderId: string, clientMsgId: string | null) => `${senderId}\u0000${clientMsgId}`;

/** Which messages to store, given the resends already stored (`existing`, by client key). */
function planBatch(messages: NewChatMessage[], existing: Map<string, bigint>): BatchPlan {
  const results: Array<WriteResult | undefined> = new Array(messages.length);
  const firstInBatch = new Map<string, number>();
  const toInsert: number[] = [];
  messages.forEach((m, i) => {
    if (m.clientMsgId === null) return void toInsert.push(i);
    const key = clientKey(m.senderId, m.clientMsgId);
    const original = existing.get(key);
    if (original !== undefined) results[i] = { duplicate: true, id: original };
    else if (!firstInBatch.has(key)) {
      firstInBatch.set(key, i);
      toInsert.push(i);
    } // else: a repeat inside this batch, answered once the first is stored
  });
  // Insert in (conversation, seq) order so consecutive ids follow seqs within each conversation.
  const byConversation = (a: number, b: number) => {
    const ca = messages[a]!.conversation;
    const cb = messages[b]!.conversation;
    return ca < cb ? -1 : ca > cb ? 1 : a - b;
  };
  toInsert.sort(byConversation);
  const perConversation = new Map<string, number>();
  for (const i of toInsert) perConversation.set(messages[i]!.conversation, (perConversation.get(messages[i]!.conversation) ?? 0) + 1);
  const createdAt = new Date();
  return { results, toInsert, perConversation, firstInBatch, nextSeq: new Map(), createdAt, stamp: mysqlDateTime(createdAt) };
}

/**
 * Round trip 1. Returns the resends it found among `lookUp` (already stored: the caller rolls
 * back and plans again); when none, `plan.nextSeq` holds each conversation's first new seq.
 */
async function bumpConversations(conn: PoolConnection, plan: BatchPlan, lookUp: NewChatMessage[]): Promise<Map<string, bigint>> {
  const withClientId = lookUp.filter((m) => m.clientMsgId !== null);
  const conversations = [...plan.perConversation.keys()];
  const statements = ['START TRANSACTION'];
  const values: unknown[] = [];
  if (withClientId.length > 0) {
    statements.push(
      `SELECT id, sender_id, client_msg_id FROM chat_messages WHERE (sender_id, client_msg_id) IN (${withClientId.map(() => '(?, ?)').join(', ')})`,
    );
    values.push(...withClientId.flatMap((m) => [m.senderId, m.clientMsgId]));
  }
  // The bump also moves the conversation's activity time, the inbox's order (a batch is stored at one time).
  statements.push(
    `INSERT INTO conversations (conversation, last_seq, last_activity_at) VALUES ${conversations.map(() => '(?, ?, ?)').join(', ')}
     ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq), last_activity_at = GREATEST(last_activity_at, VALUES(last_activity_at))`,
    `SELECT conversation, last_seq FROM conversations WHERE conversation IN (${conversations.map(() => '?').join(', ')})`,
  );
  values.push(...conversations.flatMap((c) => [c, plan.perConversation.get(c), plan.stamp]), ...conversations);
  const results: unknown[] = await conn.query(statements.join(';\n'), values);

  const found = new Map<string, bigint>();
  if (withClientId.length > 0) {
    const rows = results[1] as Array<{ id: bigint; sender_id: string; client_msg_id: string }>;
    for (const row of rows) found.set(clientKey(row.sender_id, row.client_msg_id), BigInt(row.id));
    if (found.size > 0) return found;
  }
  const seqRows = results.at(-1) as Array<{ conversation: string; last_seq: bigint | number }>;
  for (const row of seqRows) plan.nextSeq.set(row.conversation, Number(row.last_seq) - plan.perConversation.get(row.conversation)! + 1);
  return found;
}

/**
 * Round trip 2: one multi-row INSERT, a SELECT of the rows it made, then COMMIT. The ids are read
 * back, not computed: InnoDB hands a multi-row INSERT consecutive ids only in some lock modes and
 * with auto_increment_increment = 1 (MySQL 8 defaults to innodb_autoinc_lock_mode=2; Galera and
 * group replication raise the increment). Within a conversation ids still grow with seq, whatever
 * the mode: rows are inserted in seq order and the conversation row stays locked until COMMIT.
 */
async function insertAndCommit(conn: PoolConnection, messages: NewChatMessage[], plan: BatchPlan): Promise<WriteResult[]> {
  const { createdAt, stamp } = plan;
  // toInsert is in (conversation, arrival) order: each conversation's rows are one run of it.
  const firstSeq = new Map(plan.nextSeq);
  const runStart = new Map<string, number>();
  const seqs = plan.toInsert.map((i, k) => {
    const conversation = messages[i]!.conversation;
    if (!runStart.has(conversation)) runStart.set(conversation, k);
    const seq = plan.nextSeq.get(conversation)!;
    plan.nextSeq.set(conversation, seq + 1);
    return seq;
  });
  const conversations = [...runStart.keys()];
  const [, rows] = (await conn.query(
    `INSERT INTO chat_messages (seq, conversation, sender_id, target_id, msg_type, content, client_msg_id, file_id, online_count, created_at)
     VALUES ${plan.toInsert.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')};
     SELECT id, seq, conversation FROM chat_messages WHERE ${conversations.map(() => '(conversation = ? AND seq BETWEEN ? AND ?)').join(' OR ')};
     COMMIT`,
    [
      ...plan.toInsert.flatMap((i, k) => {
        const m = messages[i]!;
        return [seqs[k], m.conversation, m.senderId, m.targetId, m.msgType, m.content, m.clientMsgId, m.fileId, m.onlineCount, stamp];
      }),
      ...conversations.flatMap((c) => [c, firstSeq.get(c), plan.nextSeq.get(c)! - 1]),
    ],
  )) as [unknown, Array<{ id: bigint | number; seq: bigint | number; conversation: string }>];
  if (rows.length !== plan.toInsert.length) {
    throw new Error(`message writer: stored ${plan.toInsert.length} messages but read back ${rows.length}`);
  }
  const ids: bigint[] = new Array(plan.toInsert.length);
  for (const row of rows) ids[runStart.get(row.conversation)! + Number(row.seq) - firstSeq.get(row.conversation)!] = BigInt(row.id);
  const { results } = plan;
  plan.toInsert.forEach((i, k) => {
    results[i] = { duplicate: false, id: ids[k]!, seq: seqs[k]!, createdAt };
  });
  // Repeats of a client_msg_id first seen in this batch answer with that message.
  messages.forEach((m, i) => {
    if (results[i] !== undefined) return;
    results[i] = { duplicate: true, id: results[plan.firstInBatch.get(clientKey(m.senderId, m.clientMsgId))!]!.id };
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
