// Wiring only: config, connections, the app, the port, shutdown. Handlers live in app.ts/routes.
import { startRevocationUpkeep } from '@im/auth';
import { createRedisBroker } from '@im/bus';
import { createDb, createHistoryReader, createRevocationLedger, createSqlRunner, pingDb } from '@im/db';
import { createLogger } from '@im/logger';
import { createMailQueue } from '@im/jobs';
import { createRedisOnlineUsers } from '@im/presence';
import { createLocalStorage } from '@im/storage';
import { checkMysql, connectRedis, exitWithMessage, loadConfigOrExit, onShutdown, StartupError } from '@im/runtime';
import { createApp } from './app.ts';

const config = loadConfigOrExit();
const logger = createLogger({ service: 'api', level: config.log.level });

try {
  const redis = await connectRedis(config.redis, { name: 'api', deadlines: config.redis });
  const db = createDb({ url: config.mysql.url, connectionLimit: config.mysql.connection_limit, deadlines: config.mysql });
  await checkMysql('api', () => pingDb(db), config.mysql.url);
  // Connections are opened on demand; history pages take one each for a few milliseconds.
  const onReplicaError = (err: unknown) => logger.warn({ err: { message: (err as Error)?.message } }, 'read replica unavailable; reading the primary');
  const replicaUrl = config.mysql.replica_url;
  const history = createHistoryReader({
    url: config.mysql.url,
    connectionLimit: Math.max(2, Math.ceil(config.mysql.connection_limit / 2)),
    deadlines: config.mysql,
    ...(replicaUrl ? { replica: { url: replicaUrl, waitMs: config.mysql.replica_wait_ms, onError: onReplicaError } } : {}),
  });
  // Rooms, memberships, read cursors and the inbox: short statements, each with a deadline.
  const sql = createSqlRunner({
    url: config.mysql.url,
    connectionLimit: Math.max(2, Math.ceil(config.mysql.connection_limit / 2)),
    deadlineMs: config.mysql.deadline_ms,
  });
  // The inbox on the replica (see services.ts inboxSql); the history reader has its own replica pool.
  const replicaSql = replicaUrl
    ? createSqlRunner({ url: replicaUrl, connectionLimit: Math.max(2, Math.ceil(config.mysql.connection_limit / 2)), deadlineMs: config.mysql.deadline_ms })
    : undefined;
  const revocationLedger = createRevocationLedger({ url: config.mysql.url, deadlines: config.mysql });
  // Keeps Redis's revocation cache complete (rebuilt from MySQL after a Redis restart), so gateways
  // can trust it, and deletes expired revocations.
  const revocationUpkeep = startRevocationUpkeep({
    redis,
    prefix: config.redis.prefix,
    ledger: revocationLedger,
    onError: (err) => logger.warn({ err: { message: (err as Error)?.message } }, 'revocation upkeep failed; retrying'),
    onEvent: (event) => logger.info(event, event.kind === 'rebuilt' ? 'revocation cache loaded from MySQL' : 'expired revocations deleted'),
  });
  await revocationUpkeep.ready;
  // The API only publishes (room events); the broker still wants a subscriber connection of its own.
  const sub = await connectRedis(config.redis, { name: 'api-sub', role: 'subscriber', deadlines: config.redis });
  const broker = createRedisBroker({
    pub: redis,
    sub,
    prefix: config.redis.prefix,
    sharded: config.redis.sharded_pubsub,
    onError: (err) => logger.warn({ err: { message: (err as Error)?.message } }, 'redis bus error'),
  });
  const onlineUsers = createRedisOnlineUsers({ redis, prefix: config.redis.prefix });
  const mail = createMailQueue({ connection: redis, prefix: config.redis.prefix });
  const storage = createLocalStorage(config.upload.root);

  const app = createApp({ config, logger, db, history, sql, ...(replicaSql ? { replicaSql } : {}), redis, revocationLedger, broker, onlineUsers, mail, storage });
  // api_port, not the public port: that belongs to the front door (nginx or the start command's proxy).
  const server = app.listen(config.system.api_port, config.system.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ url: `http://${config.system.host}:${config.system.api_port}` }, 'api listening');

  onShutdown(logger, async () => {
    // Stop accepting, let in-flight requests finish, then close what they used.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    revocationUpkeep.stop();
    await mail.close();
    await broker.close();
    await history.close();
    await sql.close();
    await replicaSql?.close();
    await revocationLedger.close();
    await db.$disconnect();
    redis.disconnect();
    sub.disconnect();
  });
} catch (err) {
  if (err instanceof StartupError) exitWithMessage(err.message);
  logger.fatal({ err: { message: (err as Error).message } }, 'api failed to start');
  process.exit(1);
}
