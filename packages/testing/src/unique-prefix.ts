import { randomBytes } from 'node:crypto';

/** A Redis key prefix no other test run uses, so tests share one Redis without meeting. */
export function uniquePrefix(label = 't'): string {
  return `test-${label}-${randomBytes(4).toString('hex')}:`;
}
