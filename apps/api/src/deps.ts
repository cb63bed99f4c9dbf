import type { Cluster, Redis } from 'ioredis';
import type { Broker } from '@im/bus';
import type { Config } from '@im/config';
import type { Db, HistoryReader, RevocationLedger, SqlRunner } from '@im/db';
import type { Logger } from '@im/logger';
import type { OnlineUsers } from '@im/presence';
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
  /** Rooms, memberships, read cursors and the inbox: raw SQL with a deadline (createSqlRunner). */
  sql: SqlRunner;
  /** The same on the read replica (`mysql.replica_url`), for the inbox; absent without one. */
  replicaSql?: SqlRunner;
  redis: Redis | Cluster;
  /** Logged-out tokens in MySQL, the truth behind Redis's revocation cache (createRevocationLedger). */
  revocationLedger: RevocationLedger;
  /** Where room events are published for the gateways (a Redis broker in production). */
  broker: Broker;
  /** Which users have a socket on some gateway: the inbox's `peer.online`. */
  onlineUsers: OnlineUsers;
  mail: { enqueue(mail: OutgoingMail): Promise<unknown> };
  storage: Storage;
}
