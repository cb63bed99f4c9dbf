import type { Logger } from '@im/logger';

/** How often the count of ignored payloads is logged. */
const WARN_EVERY_MS = 10_000;

/**
 * Bus payloads this version could not read (another version during a rolling deploy sends many):
 * ignored, and counted in one warning every 10 s rather than one line each. The periodic MySQL
 * check delivers any that were messages.
 */
export class UndecodablePayloads {
  private ignored = 0;
  private warnedAt = 0;

  constructor(private readonly logger: Logger) {}

  ignore(payload: Buffer): void {
    this.ignored += 1;
    if (Date.now() - this.warnedAt < WARN_EVERY_MS) return;
    this.logger.warn({ ignored: this.ignored, head: payload.toString('latin1', 0, 8) }, 'undecodable bus payload ignored');
    this.ignored = 0;
    this.warnedAt = Date.now();
  }
}
