export { ErrorCode, type ErrorCodeValue } from './error-codes.ts';
export { AppError, errors } from './app-error.ts';
export { ok, type Envelope } from './envelope.ts';
export { MsgType, type MsgTypeValue } from './msg-types.ts';
export {
  GROUP_CONVERSATION,
  MAX_CONVERSATION_LENGTH,
  USER_ID_PATTERN,
  ROOM_ID_PATTERN,
  privateConversation,
  roomConversation,
  isPrivateConversation,
  isRoomConversation,
  parseConversation,
  privatePeer,
  type ConversationKind,
  type ParsedConversation,
} from './conversations.ts';
export {
  ROOM_ROLES,
  ASSIGNABLE_ROOM_ROLES,
  ROOM_EVENTS,
  type RoomRole,
  type AssignableRoomRole,
  type RoomEvent,
  type RoomSummary,
} from './rooms.ts';
export {
  chatFrame,
  systemFrame,
  type ChatFrame,
  type PresenceFrame,
  type SystemFrame,
  type FileInfo,
  type UserSummary,
  type StoredMessage,
} from './frames.ts';
export {
  conversationFrame,
  roomEventFrame,
  typingFrame,
  readFrame,
  type ConversationChatFrame,
  type ConversationFileInfo,
  type FileUrlSigner,
  type RoomEventFrame,
  type TypingRequest,
  type TypingFrame,
  type ReadRequest,
  type ReadFrame,
  type ResumeRequest,
} from './conversation-frames.ts';
export { CloseCode, shouldReconnect, type CloseCodeValue } from './close-codes.ts';
