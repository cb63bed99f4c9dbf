// Wires the mail worker: config, logger, Redis, transport, BullMQ worker, shutdown.
import { createLogger } from '@im/logger';
import { announceReady, connectRedis, exitWithMessage, loadConfigOrExit, onShutdown, StartupError } from '@im/runtime';
import { createMailTransport } from './mail-transport.ts';
import { createMailWorker } from './mail-worker.ts';

const config = loadConfigOrExit();

const logger = createLogger({ service: 'worker', level: config.log.level });

// BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait out reconnects), and
// no command deadline: their blocking reads wait longer than any deadline on purpose. The worker
// serves no request; a frozen Redis only delays mail.
const redis = await connectRedis(config.redis.url, {
  name: 'worker',
  maxRetriesPerRequest: null,
  deadlines: { connect_timeout_ms: config.redis.connect_timeout_ms, command_timeout_ms: null },
}).catch(
  (err: unknown) => {
    if (err instanceof StartupError) exitWithMessage(err.message);
    throw err;
  },
);

const transport = createMailTransport(config.email);
const worker = createMailWorker({
  connection: redis,
  prefix: config.redis.prefix,
  transport,
  from: config.email.from,
  logger,
  concurrency: config.email.worker_concurrency,
});
await worker.waitUntilReady();
logger.info({ transport: transport.kind, prefix: config.redis.prefix, concurrency: config.email.worker_concurrency }, 'worker ready');
announceReady();

onShutdown(logger, async () => {
  // Waits for the mails in flight; an interrupted one would be sent again after a stall.
  await worker.close();
  transport.close();
  await redis.quit();
});
