export { connectRedis, checkMysql, StartupError, DEFAULT_REDIS_DEADLINES, type RedisDeadlines } from './backing-services.ts';
export { onShutdown, exitWithMessage } from './shutdown.ts';
export { loadConfigOrExit } from './load-config-or-exit.ts';
export { createOpsServer, listenOps, type CheckResult, type OpsServerOptions } from './ops-server.ts';
