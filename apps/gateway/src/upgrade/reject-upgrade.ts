import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError } from '@im/protocol';

/**
 * Refuses a WebSocket upgrade with a plain HTTP answer in the contract's envelope, before any
 * WebSocket exists: browsers see the status, scripts can read the code.
 */
export function rejectUpgrade(socket: Duplex, error: AppError): void {
  const body = JSON.stringify({ code: error.code, data: error.details, msg: error.message });
  const retryAfter = error.details.retry_after_seconds;
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      (typeof retryAfter === 'number' ? `Retry-After: ${retryAfter}\r\n` : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
