export { createDb, pingDb, type Db, type CreateDbOptions } from './create-db.ts';
export { applyMigrations, pingServer, type MigrateResult } from './migrate.ts';
export { poolConfigFromUrl } from './connection-options.ts';
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
  type StoredFrame,
  type UserSummaryRow,
} from './chat-reader.ts';
export { createMessageWriter, type MessageWriter, type MessageWriterOptions, type WriteResult } from './message-writer.ts';
