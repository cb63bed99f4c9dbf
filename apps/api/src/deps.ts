import type { Redis } from 'ioredis';
import type { Config } from '@im/config';
import type { Db, HistoryReader, RevocationLedger } from '@im/db';
import type { Logger } from '@im/logger';
import type { Storage } from '@im/storage';

/** A queued mail; the worker sends it (apps/worker). */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/** Everything the API needs from outside, already connected. `index.ts` builds it; tests too. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  db: Db;
  /** Chat history reads, on a mariadb pool of their own (see createHistoryReader). */
  history: HistoryReader;
  redis: Redis;
  /** Logged-out tokens in MySQL, the truth behind Redis's revocation cache (createRevocationLedger). */
  revocationLedger: RevocationLedger;
  mail: { enqueue(mail: OutgoingMail): Promise<unknown> };
  storage: Storage;
}
