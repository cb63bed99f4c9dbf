export { ErrorCode, type ErrorCodeValue } from './error-codes.ts';
export { AppError, errors } from './app-error.ts';
export { ok, type Envelope } from './envelope.ts';
export { MsgType, type MsgTypeValue } from './msg-types.ts';
export {
  GROUP_CONVERSATION,
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
  ASSIGNABLE_ROOM_ROLES,
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
  type ConversationChatFrame,
  type ConversationFileInfo,
  type FileUrlSigner,
  type RoomEventFrame,
  type TypingRequest,
  type TypingFrame,
  type ReadRequest,
  type ReadFrame,
  type ResumeRequest,
  type SendRequest,
} from './conversation-frames.ts';
/** @public for the gateway's `ws /api/chat` (issue 11, gateway side): typing and read frames, room roles and events. */
export { typingFrame, readFrame } from './conversation-frames.ts';
/** @public see above */
export { ROOM_ROLES, ROOM_EVENTS } from './rooms.ts';
export { CloseCode, type CloseCodeValue } from './close-codes.ts';
/** @public for client code (the SDK, packages/client); the servers only send the codes. */
export { shouldReconnect, needsNewLogin } from './close-codes.ts';
export {
  groupChatFrameSchema,
  privateChatFrameSchema,
  conversationChatFrameSchema,
  wsFramesJsonSchema,
  WS_FRAMES_SCHEMA_ID,
} from './frame-schemas.ts';
