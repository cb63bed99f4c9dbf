export { ErrorCode, type ErrorCodeValue } from './error-codes.ts';
export { AppError, errors } from './app-error.ts';
export { ok, type Envelope } from './envelope.ts';
export { MsgType, type MsgTypeValue } from './msg-types.ts';
export { GROUP_CONVERSATION, privateConversation, isPrivateConversation } from './conversations.ts';
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
export { CloseCode, type CloseCodeValue } from './close-codes.ts';
/** @public for client code (the SDK, packages/client); the servers only send the codes. */
export { shouldReconnect, needsNewLogin } from './close-codes.ts';
export { groupChatFrameSchema, privateChatFrameSchema, wsFramesJsonSchema, WS_FRAMES_SCHEMA_ID } from './frame-schemas.ts';
