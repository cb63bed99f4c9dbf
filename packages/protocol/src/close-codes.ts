/**
 * WebSocket close codes the gateways use, and what a client should do on each. Codes 4000–4999
 * are ours; the rest are RFC 6455's.
 */
export const CloseCode = {
  /** Normal closure (client asked, or the user logged out from this socket). */
  Normal: 1000,
  /** Policy violation: the client kept flooding after being warned. Reconnect later, slower. */
  PolicyViolation: 1008,
  /** A frame was larger than the gateway's maxPayload. Do not resend it. */
  MessageTooBig: 1009,
  /** The gateway is draining (deploy, scale-down): reconnect now, with `last_id`, to another one. */
  ServiceRestart: 1012,
  /** The token was revoked (logout): do not reconnect with it; log in again. */
  TokenRevoked: 4001,
  /** The token expired: log in again, then reconnect with `last_id`. */
  TokenExpired: 4002,
  /** The client read too slowly and the gateway shed it: reconnect with `last_id`. */
  SlowConsumer: 4003,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a client should reconnect (with `last_id`) after this close code. */
export function shouldReconnect(code: number): boolean {
  return code !== CloseCode.TokenRevoked && code !== CloseCode.TokenExpired && code !== CloseCode.MessageTooBig;
}

/** Whether this close code means the token is dead: reconnecting with it is useless; log in again. */
export function needsNewLogin(code: number): boolean {
  return code === CloseCode.TokenRevoked || code === CloseCode.TokenExpired;
}
