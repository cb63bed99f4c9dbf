export { ErrorCode, type ErrorCodeValue } from './error-codes.ts';
export { AppError, errors } from './app-error.ts';
export { ok, type Envelope } from './envelope.ts';
export { MsgType, type MsgTypeValue } from './msg-types.ts';
