// Wires the mail worker: config, logger, Redis, transport, BullMQ worker, ops server, shutdown.
import { createSqlRunner } from '@im/db';
import { createMailQueue } from '@im/jobs';
import { createLogger } from '@im/logger';
import { checkMysql, checkRedisReady, connectRedis, createOpsServer, exitWithMessage, listenOps, loadConfigOrExit, onShutdown, StartupError } from '@im/runtime';
import { createMailTransport } from './mail-transport.ts';
import { createMailWorker } from './mail-worker.ts';
import { createWorkerMetrics } from './metrics.ts';
import { createNotifications, type Notifications } from './notifications/index.ts';

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

// Offline notifications (README "Offline notifications"): MySQL for the message tail, digests and
// dead letters; a second Redis client with command deadlines for the lease, presence and producers.
let notifications: Notifications | undefined;
let sql: ReturnType<typeof createSqlRunner> | undefined;
let commands: Awaited<ReturnType<typeof connectRedis>> | undefined;
if (config.notifications.enabled) {
  sql = createSqlRunner({ url: config.mysql.url, connectionLimit: 4, deadlineMs: config.mysql.deadline_ms });
  await checkMysql('worker', async () => {
    await sql!.query('SELECT 1');
  }, config.mysql.url).catch((err: unknown) => {
    if (err instanceof StartupError) exitWithMessage(err.message);
    throw err;
  });
  commands = await connectRedis(config.redis, { name: 'worker-notify', deadlines: config.redis }).catch((err: unknown) => {
    if (err instanceof StartupError) exitWithMessage(err.message);
    throw err;
  });
  notifications = createNotifications({
    config,
    sql,
    workerRedis: redis,
    redis: commands,
    mail: queue,
    logger,
    onOutcome: (channel, outcome) => metrics.notification(channel, outcome),
  });
}

const ops = createOpsServer({
  checks: {
    redis: () => checkRedisReady(redis),
    ...(sql ? { mysql: async () => void (await sql!.query('SELECT 1')) } : {}),
    worker: async () => {
      if (!worker.isRunning()) throw new Error('not running');
    },
  },
  metrics: metrics.registry,
});
await worker.waitUntilReady();
await notifications?.ready();
notifications?.notifier.start();
const url = `http://${config.system.host}:${config.worker.port}`;
await listenOps(ops, config.worker.port, config.system.host).catch((err: Error) =>
  exitWithMessage(`worker: cannot listen on ${url} (worker.port, WORKER_PORT): ${err.message}`),
);
logger.info(
  {
    transport: transport.kind,
    prefix: config.redis.prefix,
    concurrency: config.email.worker_concurrency,
    url,
    notifications: config.notifications.enabled,
    webhooks: config.notifications.webhooks.endpoints.map((e) => e.name),
  },
  'worker ready',
);

onShutdown(logger, async () => {
  // Waits for the mails in flight; an interrupted one would be sent again after a stall.
  await notifications?.close();
  await worker.close();
  transport.close();
  await queue.close();
  await new Promise<void>((resolve) => ops.close(() => resolve()));
  await commands?.quit();
  await sql?.close();
  await redis.quit();
});
