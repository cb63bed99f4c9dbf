export { connectRedis, checkMysql, StartupError } from './backing-services.ts';
export { onShutdown, exitWithMessage } from './shutdown.ts';
