import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { queuePrefix } from '@im/jobs';
import { createSqlRunner } from '@im/db';
import { createTestDatabase } from '@im/testing';
import { writeSettingsFile } from '../../../test/support/settings-file.ts';
import { createRedisFixture } from './redis-fixture.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

test('npm run webhooks -- list | replay <id>: lists dead letters, queues one again, refuses what it cannot do', async (t) => {
  const db = await createTestDatabase();
  const redis = await createRedisFixture();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const settings = writeSettingsFile({
    notifications: {
      webhooks: { attempts: 3, backoff_ms: 10, timeout_ms: 1000, endpoints: [{ name: 'crm', url: 'http://127.0.0.1:9/hooks', secret, events: ['message.offline'] }] },
    },
  });
  const sql = createSqlRunner({ url: db.url });
  t.after(async () => {
    await sql.close();
    settings.remove();
    await redis.cleanup();
    await db.drop();
  });
  await sql.query(
    `INSERT INTO webhook_dead_letters (endpoint, event_id, event_type, payload, attempts, last_status, last_error)
     VALUES ('crm', 'msg_7_abcdef0123', 'message.offline', '{"type":"message.offline"}', 1, 400, 'answered HTTP 400'),
            ('gone', 'msg_8_abcdef0123', 'message.offline', '{}', 8, NULL, 'no answer within 5000 ms')`,
  );
  const env = { ...process.env, IM_CONFIG: settings.path, DATABASE_URL: db.url, REDIS_PREFIX: redis.prefix };
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'apps/worker/src/webhooks-cli.ts', ...args], { cwd: repoRoot, env });

  const listed = (await cli('list')).stdout.trim().split('\n');
  assert.equal(listed.length, 2);
  assert.match(listed[1]!, /^1\tcrm\tmsg_7_abcdef0123\tmessage\.offline\tattempts=1\tstatus=400\t.*replayed=-\t"answered HTTP 400"$/);
  assert.match(listed[0]!, /^2\tgone\t.*status=-/);

  assert.match((await cli('replay', '1')).stdout, /dead letter 1 queued again/);
  const queue = new Queue('webhook-crm', { connection: redis.connection, prefix: queuePrefix(redis.prefix, redis.connection) });
  const [job] = await queue.getJobs(['waiting']);
  await queue.close();
  assert.deepEqual(job?.data, { eventId: 'msg_7_abcdef0123', eventType: 'message.offline', body: '{"type":"message.offline"}' });
  assert.match((await cli('list')).stdout, /^1\tcrm\t.*replayed=20/m);

  for (const [args, message] of [
    [['replay', '2'], /endpoint gone, which is not configured/],
    [['replay', '99'], /no dead letter 99/],
    [['replay', 'x'], /must be a number/],
    [['nonsense'], /usage: npm run webhooks/],
  ] as const) {
    await assert.rejects(cli(...args), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, message);
      return true;
    });
  }
});
