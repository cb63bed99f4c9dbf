import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import type Koa from 'koa';
import type { Redis } from 'ioredis';
import { loadConfig, projectRoot, type Config, type LoadConfigOptions } from '@im/config';
import { createRedisBroker, type Broker } from '@im/bus';
import { applyMigrations, createDb, createHistoryReader, createRevocationLedger, createSqlRunner, type Db, type SqlRunner } from '@im/db';
import { createLogger } from '@im/logger';
import { createRedisOnlineUsers } from '@im/presence';
import { connectRedis } from '@im/runtime';
import { createLocalStorage } from '@im/storage';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '@im/testing';
import { createApp } from '../../src/app.ts';
import type { OutgoingMail } from '../../src/deps.ts';

export interface TestApi {
  url: string;
  /** The Koa app itself, for tests that inspect its routes. */
  app: Koa;
  config: Config;
  db: Db;
  /** The API's own rooms/inbox runner, for tests that look at rows. */
  sql: SqlRunner;
  redis: Redis;
  /** The API's broker: room events go out through it. */
  broker: Broker;
  /** Mails the API queued, in order. */
  mails: OutgoingMail[];
  /** Every log line the API wrote, raw. */
  logLines: string[];
  uploadRoot: string;
  close(): Promise<void>;
}

export interface StartApiOptions {
  overrides?: LoadConfigOptions['overrides'];
  /** Reuse another instance's database and Redis prefix: a second replica of the same deployment. */
  shareWith?: TestApi;
  /** A database elsewhere (a private MariaDB): migrated here, left in place by close(). */
  databaseUrl?: string;
  /** Where the rooms/inbox runner connects instead of the test database (a server that never answers, say). */
  sqlUrl?: string;
  /** A read replica of `databaseUrl` for history and the inbox (`mysql.replica_url`). */
  replicaUrl?: string;
}

/**
 * The real API app on an ephemeral port, with a fresh MariaDB database and a fresh Redis prefix.
 * Mail is captured at the queue boundary here; the SMTP path has its own tests (worker, e2e).
 */
export async function startApi(options: StartApiOptions = {}): Promise<TestApi> {
  const shared = options.shareWith;
  let database: TestDatabase | undefined;
  if (options.databaseUrl) await applyMigrations(options.databaseUrl, resolve(projectRoot, 'prisma/migrations'));
  else if (!shared) database = await createTestDatabase();
  const uploadRoot = shared?.uploadRoot ?? (await mkdtemp(join(tmpdir(), 'im-uploads-')));
  const config = loadConfig({
    env: {},
    overrides: deepMerge(
      {
        mysql: { url: options.databaseUrl ?? shared?.config.mysql.url ?? database!.url },
        redis: { prefix: shared?.config.redis.prefix ?? uniquePrefix('api') },
        upload: { root: uploadRoot },
        log: { level: 'info' },
        rate_limit: { login_per_ip: 10_000, register_per_ip: 10_000, login_per_account: 1_000 },
      },
      options.overrides ?? {},
    ),
  });

  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ service: 'api-test', level: 'info', destination });
  // Connected as apps/api/src/index.ts does, deadlines included.
  const redis = await connectRedis(config.redis.url, { name: 'api-test', deadlines: config.redis });
  const db = createDb({ url: config.mysql.url, connectionLimit: 5, deadlines: config.mysql });
  const replica = options.replicaUrl ? { url: options.replicaUrl, waitMs: config.mysql.replica_wait_ms } : undefined;
  const history = createHistoryReader({ url: config.mysql.url, connectionLimit: 2, deadlines: config.mysql, ...(replica ? { replica } : {}) });
  const replicaSql = replica ? createSqlRunner({ url: replica.url, connectionLimit: 2, deadlineMs: config.mysql.deadline_ms }) : undefined;
  const revocationLedger = createRevocationLedger({ url: config.mysql.url, deadlines: config.mysql });
  const sql = createSqlRunner({ url: options.sqlUrl ?? config.mysql.url, connectionLimit: 3, deadlineMs: config.mysql.deadline_ms });
  const sub = await connectRedis(config.redis.url, { name: 'api-test-sub', role: 'subscriber', deadlines: config.redis });
  const broker = createRedisBroker({ pub: redis, sub, prefix: config.redis.prefix });
  const mails: OutgoingMail[] = [];
  const app = createApp({
    config,
    logger,
    db,
    history,
    sql,
    ...(replicaSql ? { replicaSql } : {}),
    redis,
    revocationLedger,
    broker,
    onlineUsers: createRedisOnlineUsers({ redis, prefix: config.redis.prefix }),
    storage: createLocalStorage(uploadRoot),
    mail: { enqueue: async (mail) => void mails.push(mail) },
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    app,
    config,
    db,
    sql,
    redis,
    broker,
    mails,
    logLines,
    uploadRoot,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!shared) {
        const keys = await redis.keys(`${config.redis.prefix}*`);
        if (keys.length) await redis.del(...keys);
      }
      await broker.close();
      redis.disconnect();
      sub.disconnect();
      await history.close();
      await revocationLedger.close();
      await sql.close();
      await replicaSql?.close();
      await db.$disconnect();
      if (database) await database.drop();
      if (!shared) await rm(uploadRoot, { recursive: true, force: true });
    },
  };
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && current && typeof current === 'object'
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
