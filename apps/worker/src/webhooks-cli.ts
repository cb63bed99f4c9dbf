// `npm run webhooks -- list [limit]` and `npm run webhooks -- replay <id>`: the webhook dead
// letters (README "Offline notifications"). Replayed deliveries are sent by the running worker.
import { createSqlRunner } from '@im/db';
import { connectRedis, exitWithMessage, loadConfigOrExit, StartupError } from '@im/runtime';
import { createDeadLetters, createWebhookQueues } from './notifications/index.ts';
import { replayDeadLetter, ReplayError } from './notifications/replay.ts';

const USAGE = 'usage: npm run webhooks -- list [limit] | replay <id>';
const [command, argument] = process.argv.slice(2);
if (command !== 'list' && command !== 'replay') exitWithMessage(USAGE);

const config = loadConfigOrExit();
const sql = createSqlRunner({ url: config.mysql.url, connectionLimit: 1, deadlineMs: config.mysql.deadline_ms });
const deadLetters = createDeadLetters(sql);

try {
  if (command === 'list') {
    const limit = argument === undefined ? 100 : Number(argument);
    if (!Number.isInteger(limit) || limit < 1) exitWithMessage(`webhooks: limit must be a positive integer; ${USAGE}`);
    const letters = await deadLetters.list(limit);
    if (letters.length === 0) console.log('no dead letters');
    for (const l of letters) {
      console.log(
        [l.id, l.endpoint, l.eventId, l.eventType, `attempts=${l.attempts}`, `status=${l.lastStatus ?? '-'}`, `failed=${l.createdAt}`,
          `replayed=${l.replayedAt ?? '-'}`, JSON.stringify(l.lastError)].join('\t'),
      );
    }
  } else {
    if (argument === undefined) exitWithMessage(USAGE);
    const redis = await connectRedis(config.redis, { name: 'webhooks-cli', deadlines: config.redis });
    const webhooks = createWebhookQueues({
      connection: redis,
      prefix: config.redis.prefix,
      endpoints: config.notifications.webhooks.endpoints,
      attempts: config.notifications.webhooks.attempts,
      backoffMs: config.notifications.webhooks.backoff_ms,
      retentionSeconds: config.notifications.job_retention_seconds,
    });
    try {
      await replayDeadLetter(deadLetters, webhooks, argument);
      console.log(`dead letter ${argument} queued again`);
    } finally {
      await webhooks.close();
      await redis.quit();
    }
  }
} catch (err) {
  if (err instanceof ReplayError || err instanceof StartupError) exitWithMessage(`webhooks: ${err.message}`);
  throw err;
} finally {
  await sql.close();
}
