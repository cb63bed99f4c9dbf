import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@im/logger';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, raw. */
  lines: string[];
  /** The lines parsed, for field checks. */
  records(): Array<Record<string, unknown>>;
}

/** The real logger writing into memory, so a test can read what would reach the log files. */
export function captureLogger(): CapturedLog {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return {
    logger: createLogger({ service: 'worker-test', level: 'debug', destination }),
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
