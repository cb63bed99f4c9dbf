/**
 * The envelope codes of docs/protocol.md. HTTP answers carry them in `code`; gateway errors carry them
 * in the `code` of a `msg_type: 1` frame. Clients written for the original server read `code` only.
 */
export const ErrorCode = {
  Ok: 0,
  Failure: 7,
  InvalidParameter: 1002,
  NotAuthenticated: 1003,
  Forbidden: 1004,
  NotFound: 1005,
  Conflict: 1006,
  TooManyRequests: 1007,
  PayloadRejected: 1008,
  ServiceUnavailable: 1500,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
