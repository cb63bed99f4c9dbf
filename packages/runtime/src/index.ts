export { connectRedis, checkMysql, StartupError } from './backing-services.ts';
export {
  checkRedisReady,
  createRedisClient,
  DEFAULT_REDIS_DEADLINES,
  type RedisClient,
  type RedisClientOptions,
  type RedisDeadlines,
  type RedisRole,
  type RedisTarget,
} from './redis-client.ts';
export { onShutdown, exitWithMessage } from './shutdown.ts';
export { loadConfigOrExit } from './load-config-or-exit.ts';
export { createOpsServer, listenOps, type CheckResult, type OpsServerOptions } from './ops-server.ts';
