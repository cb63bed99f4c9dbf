// @im/client: a typed SDK for this chat cluster, for browsers and Node (README.md). Everything
// exported here is the SDK's public surface for client code, used in this repository or not.
export { ImClient, type ImClientOptions, type ImClientEvents, type SocketOptions } from './im-client.ts';
export { ApiError } from './api-error.ts';
/** @public */
export { HttpClient, type FetchLike, type RequestOptions } from './http-client.ts';
export type { UploadOptions, UploadProgress } from './upload.ts';
/** @public */
export { memoryTokenStore, webStorageTokenStore, isExpired, type TokenStore, type StorageLike } from './token-store.ts';
export type { RegisterInput, LoginInput, LoginResult, ListUsersInput, UserSort } from './api/accounts.ts';
export type { HistoryInput, PrivateHistoryInput, HistorySort } from './api/history.ts';
export type { UploadFileInput, FileSort } from './api/files.ts';
export {
  ChatSocket,
  type ChatEndpoint,
  type ChatSocketOptions,
  type ChatSocketEvents,
  type SocketState,
  type StateChange,
  type SentMessage,
  type PendingMessage,
} from './socket/chat-socket.ts';
export { backoffDelay, type BackoffOptions } from './socket/backoff.ts';
/** @public Part 2's wire types are @im/protocol's (one definition for servers and clients), re-exported. */
export type {
  ServerFrame,
  OutgoingMessage,
  PresenceNotice,
  SystemNotice,
  TypingFrame,
  ReadFrame,
  RoomEventFrame,
  RoomEventKind,
  RoomSummary,
} from './socket/frames.ts';
export type { WebSocketLike, WebSocketConstructor, WebSocketFactory } from './socket/web-socket.ts';
export { signedFileUrl } from './signed-url.ts';
/** @public */
export { MsgType, CloseCode, ErrorCode, GROUP_CONVERSATION, privateConversation, parseConversation } from '@im/protocol';
/** @public */
export type { SendRequest, ResumeRequest, TypingRequest, ReadRequest, ConversationChatFrame, ConversationFileInfo } from '@im/protocol';
export type * from './types.ts';
