import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { Job, Worker } from 'bullmq';
import { createMailQueue, type MailJob, type MailQueue } from '@im/jobs';
import { createMailTransport } from '../src/mail-transport.ts';
import { createMailWorker, type MailOutcome, type MailResult } from '../src/mail-worker.ts';
import { captureLogger, type CapturedLog } from './capture-logger.ts';
import { createRedisFixture } from './redis-fixture.ts';
import { startSmtpSink, withTimeout, type SmtpSink, type SmtpSinkOptions } from './smtp-sink.ts';

const FROM = 'IM Cluster <no-reply@im.test>';
const MAIL: MailJob = { to: 'alice@example.test', subject: 'Your login code', text: 'Your login code is 482913.' };

interface Rig {
  sink: SmtpSink;
  queue: MailQueue;
  worker: Worker<MailJob, MailResult>;
  log: CapturedLog;
  /** What became of each attempt, in order (the worker's metrics count these). */
  outcomes: MailOutcome[];
}

/** Sink, queue and worker on a fresh prefix, all closed when the test ends. */
async function rig(
  t: TestContext,
  {
    sink: sinkOptions = {},
    backoffMs = 50,
    smtpUrl,
    concurrency = 1,
  }: { sink?: SmtpSinkOptions; backoffMs?: number; smtpUrl?: string; concurrency?: number } = {},
): Promise<Rig> {
  const redis = await createRedisFixture();
  const sink = await startSmtpSink(sinkOptions);
  const log = captureLogger();
  const transport = createMailTransport({ smtp_url: smtpUrl ?? sink.url, outbox_dir: '/nonexistent', worker_concurrency: concurrency });
  const queue = createMailQueue({ connection: redis.connection, prefix: redis.prefix, backoffMs });
  const outcomes: MailOutcome[] = [];
  const worker = createMailWorker({
    connection: redis.connection,
    prefix: redis.prefix,
    transport,
    from: FROM,
    logger: log.logger,
    concurrency,
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  t.after(async () => {
    await worker.close();
    await queue.close();
    transport.close();
    await sink.close();
    await redis.cleanup();
  });
  return { sink, queue, worker, log, outcomes };
}

function signal(ms = 15_000) {
  return { signal: AbortSignal.timeout(ms) };
}

test('a queued mail reaches the SMTP server with its sender, recipient, subject and text', async (t) => {
  const { sink, queue } = await rig(t);
  await queue.enqueue(MAIL);
  const mail = await sink.nextMail();
  assert.equal(mail.from?.value[0]?.address, 'no-reply@im.test');
  assert.equal(mail.from?.value[0]?.name, 'IM Cluster');
  assert.deepEqual(
    [mail.to].flat().flatMap((to) => to?.value.map((a) => a.address)),
    ['alice@example.test'],
  );
  assert.equal(mail.subject, MAIL.subject);
  assert.equal(mail.text?.trimEnd(), MAIL.text);
});

test('a recipient refused with 550 fails the job after one attempt', async (t) => {
  const { sink, queue, worker, log, outcomes } = await rig(t, { sink: { rejectRecipient: () => 550 } });
  const id = await queue.enqueue(MAIL);
  const [job, err] = (await once(worker, 'failed', signal())) as [Job<MailJob>, Error];
  assert.equal(job.id, id);
  assert.equal(err.name, 'UnrecoverableError');
  assert.equal(job.attemptsMade, 1);
  // 'failed', not 'delayed': no retry is pending.
  assert.equal(await job.getState(), 'failed');
  assert.match(job.failedReason, /550/);
  assert.equal(sink.recipientAttempts.length, 1);
  assert.equal(sink.mails.length, 0);
  const entry = log.records().find((r) => r.msg === 'mail not sent');
  assert.equal(entry?.failure, 'permanent');
  assert.equal(entry?.willRetry, false);
  assert.deepEqual(outcomes, ['failed']);
});

test('a malformed address fails the job after one attempt without reaching the server', async (t) => {
  const { sink, queue, worker } = await rig(t);
  await queue.enqueue({ ...MAIL, to: 'not-an-address' });
  const [job, err] = (await once(worker, 'failed', signal())) as [Job<MailJob>, Error];
  assert.equal(err.name, 'UnrecoverableError');
  assert.equal(job.attemptsMade, 1);
  assert.equal(await job.getState(), 'failed');
  assert.equal(sink.recipientAttempts.length, 0);
});

test('a recipient deferred with 451 is retried with growing delays until accepted', async (t) => {
  const backoffMs = 100;
  const { sink, queue, worker, outcomes } = await rig(t, {
    backoffMs,
    sink: { rejectRecipient: (n) => (n <= 2 ? 451 : undefined) },
  });
  const id = await queue.enqueue(MAIL);
  const [job] = (await once(worker, 'completed', signal())) as [Job<MailJob>];
  assert.equal(job.id, id);
  // BullMQ 6 counts the successful try as well.
  assert.equal(job.attemptsMade, 3);
  assert.deepEqual(outcomes, ['retried', 'retried', 'sent']);
  const mail = await sink.nextMail();
  assert.equal(mail.subject, MAIL.subject);
  const [first, second, third] = sink.recipientAttempts as [number, number, number];
  assert.equal(sink.recipientAttempts.length, 3);
  // Exponential: at least 1x then 2x the base delay between tries (a few ms for clock rounding).
  assert.ok(second - first >= backoffMs - 5, `first retry after ${second - first} ms`);
  assert.ok(third - second >= 2 * backoffMs - 5, `second retry after ${third - second} ms`);
});

test('a closed SMTP port is retried until the server comes up', async (t) => {
  const port = await freePort();
  const { queue, worker } = await rig(t, { backoffMs: 200, smtpUrl: `smtp://127.0.0.1:${port}` });
  await queue.enqueue(MAIL);
  const [, refused] = (await once(worker, 'failed', signal())) as [Job<MailJob>, Error & { code?: string }];
  assert.notEqual(refused.name, 'UnrecoverableError');
  const sink = await startSmtpSink({ port });
  t.after(() => sink.close());
  const mail = await sink.nextMail();
  assert.equal(mail.text?.trimEnd(), MAIL.text);
  const [job] = (await once(worker, 'completed', signal())) as [Job<MailJob>];
  assert.ok(job.attemptsMade >= 1);
});

test('close() lets the mail in flight finish', async (t) => {
  let release: () => void = () => {};
  const holdData = new Promise<void>((resolve) => (release = resolve));
  const { sink, queue, worker } = await rig(t, { sink: { holdData } });
  const completed: string[] = [];
  worker.on('completed', (job) => completed.push(job.id!));
  const id = await queue.enqueue(MAIL);
  await sink.dataStarted;

  let closed = false;
  const closing = worker.close().then(() => (closed = true));
  // Give close() the chance to return early if it were going to drop the job.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(closed, false, 'close() returned while a mail was still being sent');
  release();
  await closing;
  assert.deepEqual(completed, [id]);
  assert.equal(sink.mails.length, 1);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('with concurrency 4, four mails are sent at once, and 20 mails reuse at most 4 SMTP connections', async (t) => {
  let release: () => void = () => {};
  const holdData = new Promise<void>((resolve) => (release = resolve));
  const { sink, queue, worker } = await rig(t, { sink: { holdData }, concurrency: 4 });
  const completed: string[] = [];
  worker.on('completed', (job) => completed.push(job.id!));
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await queue.enqueue({ ...MAIL, to: `user${i}@example.test` }));
  // The sink holds every body until released: four at once means four mails in flight together.
  await withTimeout(
    (async () => {
      while (sink.dataInFlight().now < 4) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    15_000,
    `only ${sink.dataInFlight().now} mails were in flight at once`,
  );
  assert.equal(completed.length, 0);
  release();
  await withTimeout(
    (async () => {
      while (completed.length < 20) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    15_000,
    'not every mail was sent',
  );
  assert.deepEqual([...completed].sort(), [...ids].sort());
  assert.deepEqual(sink.mails.map((m) => [m.to].flat()[0]?.value[0]?.address).sort(), ids.map((_, i) => `user${i}@example.test`).sort());
  assert.equal(sink.dataInFlight().max, 4, 'never more than the concurrency');
  assert.ok(sink.connections() <= 4, `${sink.connections()} SMTP connections for 20 mails`);
});
