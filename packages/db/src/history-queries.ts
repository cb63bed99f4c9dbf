import { Prisma } from './generated/client.ts';
import type { Db } from './create-db.ts';
import type { ChatMessageWithPeople } from './chat-messages.ts';
import { DEFAULT_MYSQL_DEADLINES, poolConfigFromUrl, type MysqlDeadlines } from './connection-options.ts';
import { createDeadlinePool } from './deadline-pool.ts';
import { replicaCheck } from './replica-reads.ts';

/** Which messages a history query reads. */
export type MessageFilter =
  /** One conversation, optionally only one sender's messages in it. */
  | { conversation: string; senderId?: string }
  /** Every private message `privateOf` sent or received, across all peers. */
  | { privateOf: string };

/** Which part of the filtered messages, in which order. */
export type MessageWindow =
  /** id > afterId, oldest first. */
  | { kind: 'after'; afterId: bigint }
  /** id < beforeId, newest first. */
  | { kind: 'before'; beforeId: bigint }
  /** An OFFSET page; `username` orders by the sender's username, ties by id in the same direction. */
  | { kind: 'offset'; offset: number; orderBy: 'id' | 'username'; direction: 'asc' | 'desc' };

/** One page of the messages matching `filter` (see `pageRows`). */
export async function findMessagePage(db: Db, filter: MessageFilter, window: MessageWindow, limit: number): Promise<ChatMessageWithPeople[]> {
  return (await pageRows(viaPrisma(db), filter, window, limit)).map(toMessage);
}

/**
 * A page and the total `countMessages` gives for the same filter. For a whole conversation the
 * total rides along in the page's statement (one round trip, and both from one snapshot); only an
 * empty page asks for it on its own.
 */
export function findHistory(
  db: Db,
  filter: MessageFilter,
  window: MessageWindow,
  limit: number,
): Promise<{ count: number; messages: ChatMessageWithPeople[] }> {
  return historyWithCount(viaPrisma(db), filter, window, limit);
}

/** What the API reads history with: the same queries on a mariadb pool of its own. */
export interface HistoryReader {
  /** See `findHistory`. */
  findHistory(filter: MessageFilter, window: MessageWindow, limit: number): Promise<{ count: number; messages: ChatMessageWithPeople[] }>;
  close(): Promise<void>;
}

export interface HistoryReaderOptions {
  /** `mysql://user:pass@host:port/db` */
  url: string;
  /** Connections opened on demand. @default 4 */
  connectionLimit?: number;
  /** @default DEFAULT_MYSQL_DEADLINES (settings.yaml's) */
  deadlines?: MysqlDeadlines;
  /**
   * A read replica (`mysql.replica_url`) that serves each page once it has caught up with the
   * primary (see replica-reads.ts); the primary serves the page otherwise. It gets a pool of the
   * same size and deadlines.
   */
  replica?: { url: string; waitMs: number; onError?: (err: unknown) => void };
}

/**
 * History on the mariadb driver directly, as the message writer writes. A page is one statement
 * either way, but Prisma's $queryRaw spends more CPU around it than MariaDB spends on it: 2.0 ms
 * against 0.45 ms per page here, and about 2 ms of the answer's time.
 */
export function createHistoryReader(options: HistoryReaderOptions): HistoryReader {
  const deadlines = options.deadlines ?? DEFAULT_MYSQL_DEADLINES;
  const poolFor = (url: string) =>
    createDeadlinePool(
      {
        ...poolConfigFromUrl(url, options.connectionLimit ?? 4, deadlines),
        // DATETIME(3) as text, read as UTC below: what Prisma does, whatever the process's time zone.
        dateStrings: true,
      },
      deadlines.query_timeout_ms,
    );
  const pool = poolFor(options.url);
  const run: Run = (query) => pool.query(query.sql, query.values);
  if (!options.replica) {
    return {
      findHistory: (filter, window, limit) => historyWithCount(run, filter, window, limit),
      close: () => pool.end(),
    };
  }
  const replicaPool = poolFor(options.replica.url);
  const runOnReplica: Run = (query) => replicaPool.query(query.sql, query.values);
  const caughtUp = replicaCheck({
    primary: (sql, values) => pool.query(sql, values),
    replica: (sql, values) => replicaPool.query(sql, values),
    waitMs: options.replica.waitMs,
    ...(options.replica.onError ? { onReplicaError: options.replica.onError } : {}),
  });
  return {
    async findHistory(filter, window, limit) {
      if (!(await caughtUp())) return historyWithCount(run, filter, window, limit);
      try {
        return await historyWithCount(runOnReplica, filter, window, limit);
      } catch (err) {
        // The replica went away between the check and the page: the primary still answers.
        options.replica?.onError?.(err);
        return historyWithCount(run, filter, window, limit);
      }
    },
    close: async () => {
      await Promise.all([pool.end(), replicaPool.end()]);
    },
  };
}

/** Runs one composed statement and returns its rows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of any statement; each caller names its row type
export type Run = (query: Prisma.Sql) => Promise<any[]>;

function viaPrisma(db: Db): Run {
  return (query) => db.$queryRawUnsafe(query.sql, ...query.values);
}

async function historyWithCount(
  run: Run,
  filter: MessageFilter,
  window: MessageWindow,
  limit: number,
): Promise<{ count: number; messages: ChatMessageWithPeople[] }> {
  if ('conversation' in filter && filter.senderId === undefined) {
    const rows = await pageRows(run, filter, window, limit, filter.conversation);
    const count = rows[0] ? Number(rows[0].total ?? 0) : await countRows(run, filter);
    return { count, messages: rows.map(toMessage) };
  }
  const [count, rows] = await Promise.all([countRows(run, filter), pageRows(run, filter, window, limit)]);
  return { count, messages: rows.map(toMessage) };
}

/**
 * One page of history, read in one round trip: the page's ids come from an index alone (a
 * derived table, so OFFSET walks index entries, not rows), then only those rows are joined
 * with their sender, target and file.
 *
 * Conversation queries name their index. Left to itself, MariaDB 10.11 answers
 * `conversation = ? AND id < ? ORDER BY id DESC LIMIT 20` with a `ref` scan on the
 * conversation prefix of (conversation, id), starting at the newest row and testing `id` on each
 * row it reads: a `before_id` deep in a 600,000-message room read 300,000 rows (2.4 s), and an
 * `after_id` scanned index entries from the oldest. With the index forced it takes the `range`
 * access on both columns and reads `limit` entries.
 *
 * With `totalOf`, each row also carries that conversation's `last_seq` as `total`.
 */
export async function pageRows(run: Run, filter: MessageFilter, window: MessageWindow, limit: number, totalOf?: string): Promise<PageRow[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`history: limit must be a positive integer, got ${limit}`);
  const { where, index } = filterSql(filter);
  const from = index ? Prisma.sql`chat_messages m FORCE INDEX (${Prisma.raw(index)})` : Prisma.sql`chat_messages m`;
  let cursor = Prisma.empty;
  let offset = 0;
  let direction: 'ASC' | 'DESC';
  let byUsername = false;
  switch (window.kind) {
    case 'after':
      cursor = Prisma.sql`AND m.id > ${window.afterId}`;
      direction = 'ASC';
      break;
    case 'before':
      cursor = Prisma.sql`AND m.id < ${window.beforeId}`;
      direction = 'DESC';
      break;
    case 'offset':
      offset = window.offset;
      direction = window.direction === 'asc' ? 'ASC' : 'DESC';
      byUsername = window.orderBy === 'username';
      break;
  }
  // The same aliases inside and outside the derived table, so one ORDER BY serves both.
  const order = Prisma.raw(byUsername ? `s.username ${direction}, m.id ${direction}` : `m.id ${direction}`);
  const join = byUsername ? Prisma.sql`JOIN users s ON s.user_id = m.sender_id` : Prisma.empty;
  const total = totalOf === undefined ? Prisma.empty : Prisma.sql`(SELECT last_seq FROM conversations WHERE conversation = ${totalOf}) AS total,`;
  return run(Prisma.sql`
    SELECT ${total} ${MESSAGE_COLUMNS}
    FROM (
      SELECT m.id FROM ${from} ${join}
      WHERE ${where} ${cursor}
      ORDER BY ${order}
      LIMIT ${limit} OFFSET ${offset}
    ) page
    JOIN chat_messages m ON m.id = page.id
    ${MESSAGE_JOINS}
    ORDER BY ${order}`);
}

/** A message row with its sender, target and file, as `toMessage` reads it (`m` is chat_messages). */
export const MESSAGE_COLUMNS = Prisma.sql`m.id, m.seq, m.conversation, m.sender_id, m.target_id, m.msg_type, m.content, m.client_msg_id,
           m.file_id, m.online_count, m.created_at,
           s.username AS sender_username, s.avatar AS sender_avatar,
           t.username AS target_username, t.avatar AS target_avatar,
           f.file_name, f.original_name, f.owner_id AS file_owner_id, f.target_id AS file_target_id, f.size AS file_size,
           f.mime_type, f.file_type, f.storage_key, f.created_at AS file_created_at`;

/** The joins MESSAGE_COLUMNS reads from. */
export const MESSAGE_JOINS = Prisma.sql`JOIN users s ON s.user_id = m.sender_id
    LEFT JOIN users t ON t.user_id = m.target_id
    LEFT JOIN files f ON f.id = m.file_id`;

/** Messages of a conversation with id > `afterId`, oldest first: catch-up after `last_id`. */
export function messagesAfterId(db: Db, conversation: string, afterId: bigint, limit: number): Promise<ChatMessageWithPeople[]> {
  return findMessagePage(db, { conversation }, { kind: 'after', afterId }, limit);
}

/**
 * How many messages match `filter`. An unfiltered conversation reads `conversations.last_seq`:
 * seqs are gap-free and messages are never deleted, so it is the count without a scan.
 */
export function countMessages(db: Db, filter: MessageFilter): Promise<number> {
  return countRows(viaPrisma(db), filter);
}

async function countRows(run: Run, filter: MessageFilter): Promise<number> {
  if ('conversation' in filter && filter.senderId === undefined) {
    const rows = await run(Prisma.sql`SELECT last_seq FROM conversations WHERE conversation = ${filter.conversation}`);
    return Number(rows[0]?.last_seq ?? 0);
  }
  const { where, index } = filterSql(filter);
  const from = index ? Prisma.sql`chat_messages m FORCE INDEX (${Prisma.raw(index)})` : Prisma.sql`chat_messages m`;
  const rows = await run(Prisma.sql`SELECT COUNT(*) AS n FROM ${from} WHERE ${where}`);
  return Number(rows[0]?.n ?? 0);
}

function filterSql(filter: MessageFilter): { where: Prisma.Sql; index?: string } {
  if ('privateOf' in filter) {
    // Group messages have no target, so these are exactly the user's private messages.
    return { where: Prisma.sql`((m.sender_id = ${filter.privateOf} AND m.target_id IS NOT NULL) OR m.target_id = ${filter.privateOf})` };
  }
  if (filter.senderId !== undefined) {
    return {
      where: Prisma.sql`m.conversation = ${filter.conversation} AND m.sender_id = ${filter.senderId}`,
      index: 'chat_messages_conversation_sender_id_id_idx',
    };
  }
  return { where: Prisma.sql`m.conversation = ${filter.conversation}`, index: 'chat_messages_conversation_id_idx' };
}

/** A row as Prisma or the driver returns it: integers as number or bigint, DATETIME as Date or text. */
export interface PageRow {
  total?: bigint | number | null;
  id: bigint | number;
  seq: bigint | number;
  conversation: string;
  sender_id: string;
  target_id: string | null;
  msg_type: number | bigint;
  content: string;
  client_msg_id: string | null;
  file_id: bigint | number | null;
  online_count: number | bigint;
  created_at: Date | string;
  sender_username: string;
  sender_avatar: string;
  target_username: string | null;
  target_avatar: string | null;
  file_name: string | null;
  original_name: string | null;
  file_owner_id: string | null;
  file_target_id: string | null;
  file_size: bigint | number | null;
  mime_type: string | null;
  file_type: string | null;
  storage_key: string | null;
  file_created_at: Date | string | null;
}

/** DATETIME(3) is stored in UTC (as Prisma writes and reads it). */
function utc(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}

/** The same object Prisma's `include: messageWithPeople` would give, so frames are built alike. */
export function toMessage(row: PageRow): ChatMessageWithPeople {
  return {
    id: BigInt(row.id),
    seq: BigInt(row.seq),
    conversation: row.conversation,
    senderId: row.sender_id,
    targetId: row.target_id,
    msgType: Number(row.msg_type),
    content: row.content,
    clientMsgId: row.client_msg_id,
    fileId: row.file_id === null ? null : BigInt(row.file_id),
    onlineCount: Number(row.online_count),
    createdAt: utc(row.created_at),
    sender: { userId: row.sender_id, username: row.sender_username, avatar: row.sender_avatar },
    target:
      row.target_id !== null && row.target_username !== null
        ? { userId: row.target_id, username: row.target_username, avatar: row.target_avatar! }
        : null,
    file:
      row.file_id !== null && row.file_name !== null
        ? {
            id: BigInt(row.file_id),
            fileName: row.file_name,
            originalName: row.original_name!,
            ownerId: row.file_owner_id!,
            targetId: row.file_target_id,
            size: BigInt(row.file_size!),
            mimeType: row.mime_type!,
            fileType: row.file_type!,
            storageKey: row.storage_key!,
            createdAt: utc(row.file_created_at!),
          }
        : null,
  };
}
