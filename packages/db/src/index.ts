export { createDb, pingDb, type Db, type CreateDbOptions } from './create-db.ts';
export { applyMigrations, pingServer, type MigrateResult } from './migrate.ts';
export { poolConfigFromUrl, DEFAULT_MYSQL_DEADLINES, type MysqlDeadlines } from './connection-options.ts';
export { isMysqlUnavailable } from './deadline-pool.ts';
export { Prisma } from './generated/client.ts';
export type { User, ChatMessage, File } from './generated/client.ts';
export {
  messageWithPeople,
  type NewChatMessage,
  type ChatMessageWithPeople,
} from './chat-messages.ts';
export {
  createHistoryReader,
  findHistory,
  findMessagePage,
  countMessages,
  messagesAfterId,
  type MessageFilter,
  type MessageWindow,
  type HistoryReader,
  type HistoryReaderOptions,
} from './history-queries.ts';
export { toChatFrame, downloadPath, fileInfo, type FileRow } from './chat-frames.ts';
export {
  createChatReader,
  type ChatReader,
  type ChatReaderOptions,
  type ChatFile,
  type ConversationHead,
  type PrivateMessageRef,
  type StoredFrame,
  type UserSummaryRow,
} from './chat-reader.ts';
export { createMessageWriter, type MessageWriter, type MessageWriterOptions, type WriteResult } from './message-writer.ts';
export { createRevocationLedger, type RevocationLedger, type RevocationLedgerOptions, type RevokedToken } from './revocation-ledger.ts';
export { createReadPicker } from './replica-reads.ts';
export { createSqlRunner, DeadlineError, type SqlRunner, type SqlRunnerOptions, type SqlTx } from './sql-runner.ts';
export {
  visibleConversations,
  visibleConversationsFrom,
  type VisibilitySources,
  roomRole,
  roomConversationsOf,
  privateChatsOf,
  ensurePrivateChat,
  type Queryable,
  type PrivateChat,
} from './memberships.ts';
export { moveReadCursor, readPositions, type ReadCursorMove, type ReadPositions } from './read-cursors.ts';
export { inboxPage, type InboxCursor, type InboxEntry } from './inbox.ts';
export {
  newRoomId,
  findRoom,
  roomMemberCount,
  lockRoom,
  roomsOfUser,
  roomMembers,
  roomMember,
  lockUsers,
  roomCounts,
  existingMembers,
  latestMessageId,
  insertRoom,
  insertMembers,
  deleteMember,
  setMemberRole,
  nextOwner,
  updateRoom,
  deleteRoom,
  type RoomRow,
  type RoomMemberRow,
} from './rooms.ts';
export { fileConversation } from './file-conversations.ts';
