import { CloseCode, ErrorCode } from '@im/protocol';
import type { Connection } from '../connections/connection.ts';
import type { GatewayMetrics } from '../http/metrics.ts';

/** Refused frames in a row before a flooding client is disconnected. */
const MAX_FLOOD_STRIKES = 50;

/**
 * Runs as each frame arrives, before it is queued: a flooding client is answered at once and its
 * frames never pile up in memory. Returns whether the frame may be handled.
 */
export function admitFrame(metrics: GatewayMetrics, connection: Connection): boolean {
  if (connection.allowMessage()) {
    connection.floodStrikes = 0;
    return true;
  }
  connection.floodStrikes += 1;
  metrics.framesRejected.inc({ reason: 'rate' });
  if (connection.floodStrikes > MAX_FLOOD_STRIKES) connection.close(CloseCode.PolicyViolation, 'too many messages');
  else connection.sendError(ErrorCode.TooManyRequests, '发送过于频繁，请稍后再试');
  return false;
}
