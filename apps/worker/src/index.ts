// Wires the mail worker: config, logger, Redis, transport, BullMQ worker, ops server, shutdown.
import { createMailQueue } from '@im/jobs';
import { createLogger } from '@im/logger';
import { checkRedisReady, connectRedis, createOpsServer, exitWithMessage, listenOps, loadConfigOrExit, onShutdown, StartupError } from '@im/runtime';
import { createMailTransport } from './mail-transport.ts';
import { createMailWorker } from './mail-worker.ts';
import { createWorkerMetrics } from './metrics.ts';

const config = loadConfigOrExit();

const logger = createLogger({ service: 'worker', level: config.log.level });

// BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait out reconnects), and
// no command deadline: their blocking reads wait longer than any deadline on purpose (the
// `blocking` role). The worker serves no request; a frozen Redis only delays mail.
const redis = await connectRedis(config.redis, { name: 'worker', role: 'blocking', deadlines: config.redis }).catch(
  (err: unknown) => {
    if (err instanceof StartupError) exitWithMessage(err.message);
    throw err;
  },
);

// Only counts jobs for the metrics; the API is the producer.
const queue = createMailQueue({ connection: redis, prefix: config.redis.prefix });
const metrics = createWorkerMetrics({
  jobCounts: () => queue.jobCounts(),
  onCountError: (err) => logger.warn({ err: { message: (err as Error)?.message } }, 'cannot count mail jobs for metrics'),
});
const transport = createMailTransport(config.email);
const worker = createMailWorker({
  connection: redis,
  prefix: config.redis.prefix,
  transport,
  from: config.email.from,
  logger,
  concurrency: config.email.worker_concurrency,
  onOutcome: (outcome) => metrics.outcome(outcome),
});
const ops = createOpsServer({
  checks: {
    redis: () => checkRedisReady(redis),
    worker: async () => {
      if (!worker.isRunning()) throw new Error('not running');
    },
  },
  metrics: metrics.registry,
});
await worker.waitUntilReady();
const url = `http://${config.system.host}:${config.worker.port}`;
await listenOps(ops, config.worker.port, config.system.host).catch((err: Error) =>
  exitWithMessage(`worker: cannot listen on ${url} (worker.port, WORKER_PORT): ${err.message}`),
);
logger.info(
  { transport: transport.kind, prefix: config.redis.prefix, concurrency: config.email.worker_concurrency, url },
  'worker ready',
);

onShutdown(logger, async () => {
  // Waits for the mails in flight; an interrupted one would be sent again after a stall.
  await worker.close();
  transport.close();
  await queue.close();
  await new Promise<void>((resolve) => ops.close(() => resolve()));
  await redis.quit();
});
