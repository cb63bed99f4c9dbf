import { ErrorCode } from '@im/protocol';

/**
 * A failed call: the envelope's `code` (CONTRACT.md's table), the HTTP status, the server's
 * message and its details (`data`: e.g. `errors`, `field`, `retry_after_seconds`). Network
 * failures and answers that are not an envelope get code 7 (generic failure) and status 0 or
 * the HTTP status.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: number,
    readonly status: number,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The token is missing, expired or revoked: the user has to log in again. */
  get needsLogin(): boolean {
    return this.code === ErrorCode.NotAuthenticated;
  }

  /** Seconds the server asked to wait (429 / 1007), if it said. */
  get retryAfterSeconds(): number | undefined {
    const value = this.data.retry_after_seconds;
    return typeof value === 'number' ? value : undefined;
  }
}
