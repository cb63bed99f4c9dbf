// Wiring only: config, connections, the gateway, its port, shutdown.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createRedisRevocations, createTokenService } from '@im/auth';
import { createRedisBroker } from '@im/bus';
import { createChatReader, createMessageWriter, createRevocationLedger } from '@im/db';
import { createLogger } from '@im/logger';
import { createRedisOfflineGrace, createRedisPresence } from '@im/presence';
import { checkMysql, checkRedisReady, connectRedis, exitWithMessage, loadConfigOrExit, onShutdown, StartupError } from '@im/runtime';
import { createGateway } from './gateway.ts';
import { createMetrics } from './http/metrics.ts';

const config = loadConfigOrExit();
const gatewayId = config.gateway.id || `${hostname()}-${config.gateway.port}-${randomBytes(3).toString('hex')}`;
const logger = createLogger({ service: 'gateway', level: config.log.level }).child({ gateway: gatewayId });

try {
  const prefix = config.redis.prefix;
  // Commands, and a second connection for subscriptions (a subscribed connection can do nothing else).
  // Commands issued together share one write: a reconnect storm issues thousands of presence and
  // revocation commands at once, each of which cost a syscall.
  const redis = await connectRedis(config.redis, { name: `gateway-${gatewayId}`, autoPipelining: true, deadlines: config.redis });
  const sub = await connectRedis(config.redis, { name: `gateway-${gatewayId}-sub`, role: 'subscriber', deadlines: config.redis });
  // Two pools, sized in settings (mysql.gateway_*_connections): the writer batches the chat hot
  // path's commits (see message-writer.ts); the reader serves everything else the gateway reads.
  const reader = createChatReader({ url: config.mysql.url, connectionLimit: config.mysql.gateway_reader_connections, deadlines: config.mysql });
  await checkMysql('gateway', () => reader.ping(), config.mysql.url);
  const writer = createMessageWriter({ url: config.mysql.url, connectionLimit: config.mysql.gateway_writer_connections, deadlines: config.mysql });
  // MySQL's list of logged-out tokens, behind Redis's cache of it: a Redis that restarted empty is
  // reloaded from here (or asked through to it), so a logged-out token never opens a socket again
  // nor keeps one open. Checks come only when the cache is lost or Redis is down: one connection.
  const ledger = createRevocationLedger({ url: config.mysql.url, deadlines: config.mysql, connectionLimit: 1 });

  const metrics = createMetrics(gatewayId);
  const onRedisError = (operation: string) => (err: unknown) => {
    metrics.redisErrors.inc({ operation });
    logger.warn({ err: { message: (err as Error)?.message } }, `redis ${operation} error`);
  };
  const broker = createRedisBroker({
    pub: redis,
    sub,
    prefix,
    sharded: config.redis.sharded_pubsub,
    livenessProbe: () => checkRedisReady(sub),
    onError: onRedisError('bus'),
  });
  const presence = createRedisPresence({
    redis,
    prefix,
    gatewayId,
    leaseMs: config.gateway.presence_lease_ms,
    heartbeatMs: config.gateway.presence_heartbeat_ms,
    onError: onRedisError('presence'),
  });
  const revocations = createRedisRevocations({ redis, prefix, sharded: config.redis.sharded_pubsub, ledger, onError: onRedisError('revocations') });
  const tokens = createTokenService({
    secret: config.jwt.secret,
    issuer: config.jwt.issuer,
    expiresInSeconds: config.jwt.expires_in_seconds,
    revocations,
  });

  const offlineGrace = (graceMs: number) => createRedisOfflineGrace({ redis, prefix, graceMs });
  const gateway = createGateway({ config, logger, reader, writer, broker, presence, tokens, revocations, metrics, offlineGrace });
  await gateway.start();
  gateway.server.listen({ port: config.gateway.port, host: config.system.host, backlog: config.gateway.listen_backlog });
  await new Promise<void>((resolve, reject) => {
    gateway.server.once('listening', resolve);
    gateway.server.once('error', reject);
  });
  logger.info({ url: `ws://${config.system.host}:${config.gateway.port}` }, 'gateway listening');

  onShutdown(logger, async () => {
    await gateway.drain();
    await broker.close();
    await writer.close();
    await reader.close();
    await ledger.close();
    redis.disconnect();
    sub.disconnect();
  });
} catch (err) {
  if (err instanceof StartupError) exitWithMessage(err.message);
  logger.fatal({ err: { message: (err as Error).message } }, 'gateway failed to start');
  process.exit(1);
}
