import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfig } from '@im/config';
import { createMailQueue } from '@im/jobs';
import { createRedisFixture } from './redis-fixture.ts';
import { startSmtpSink, withTimeout } from './smtp-sink.ts';
import { freePort } from '../../../test/support/cluster-process.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves once stdout holds a log line with this `msg`. */
  logged(msg: string, timeoutMs?: number): Promise<void>;
}

/** Runs the worker the way `npm start` would, collecting its output line by line. */
function startWorker(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/index.ts'], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = new EventEmitter();
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout, lines);
  collectLines(child.stderr!, stderr, lines);
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  function logged(msg: string, timeoutMs = 30_000): Promise<void> {
    const wanted = `"msg":"${msg}"`;
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!stdout.some((line) => line.includes(wanted))) return;
          lines.off('line', check);
          resolve();
        };
        lines.on('line', check);
        check();
        void exited.then((code) => reject(new Error(`worker exited (${code}) before "${msg}": ${stderr.join('\n')}`)));
      }),
      timeoutMs,
      `worker did not log "${msg}" within ${timeoutMs} ms`,
    );
  }
  return { child, stdout, stderr, exited, logged };
}

function collectLines(stream: NodeJS.ReadableStream, into: string[], notify: EventEmitter): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    into.push(...parts.filter(Boolean));
    notify.emit('line');
  });
  stream.on('end', () => {
    if (rest) into.push(rest);
  });
}

test('the worker process sends a queued mail, counts it at /metrics and exits 0 on SIGTERM', async (t) => {
  const redis = await createRedisFixture();
  const sink = await startSmtpSink();
  // The API side: its own client with default retry settings, as the API would have.
  const queue = createMailQueue({ connection: redis.connection, prefix: redis.prefix });
  const ops = `http://127.0.0.1:${await freePort()}`;
  const worker = startWorker({
    REDIS_URL: loadConfig().redis.url,
    REDIS_PREFIX: redis.prefix,
    SMTP_URL: sink.url,
    MAIL_FROM: 'Black Box <bb@im.test>',
    MAIL_WORKER_CONCURRENCY: '3',
    WORKER_PORT: new URL(ops).port,
    // Mail only: no MySQL for the offline notifications (test/cluster/offline-notify.test.ts has them).
    NOTIFICATIONS_ENABLED: 'false',
  });
  t.after(async () => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await queue.close();
    await sink.close();
    await redis.cleanup();
  });

  await worker.logged('worker ready');
  const started = JSON.parse(worker.stdout.find((line) => line.includes('"msg":"worker ready"'))!);
  assert.equal(started.concurrency, 3, 'MAIL_WORKER_CONCURRENCY is applied');
  assert.equal(started.url, ops);
  await queue.enqueue({ to: 'carol@example.test', subject: 'Your login code', text: 'Your login code is 615204.' });
  const mail = await sink.nextMail();
  assert.equal(mail.from?.value[0]?.address, 'bb@im.test');
  assert.equal(mail.text?.trimEnd(), 'Your login code is 615204.');

  assert.equal((await fetch(`${ops}/healthz`)).status, 200);
  const ready = await (await fetch(`${ops}/readyz`)).json();
  assert.deepEqual(ready, { code: 0, data: { redis: 'ok', worker: 'ok' }, msg: '成功' });
  // The job is removed right after the mail went out; the counter may trail the mail by a moment.
  await worker.logged('mail sent');
  const metrics = await (await fetch(`${ops}/metrics`)).text();
  assert.match(metrics, /^im_worker_mails_total\{result="sent"\} 1$/m);
  assert.match(metrics, /^im_worker_mails_total\{result="failed"\} 0$/m);
  assert.match(metrics, /^im_worker_queue_jobs\{state="waiting"\} 0$/m);

  worker.child.kill('SIGTERM');
  const code = await withTimeout(worker.exited, 30_000, 'worker did not exit after SIGTERM');
  assert.equal(code, 0, worker.stderr.join('\n'));
  assert.ok(worker.stdout.some((line) => line.includes('"msg":"mail sent"')));
  assert.ok(!worker.stdout.join('\n').includes('615204'), 'the login code reached the log');
});

test('the worker process exits non-zero with one clear line when Redis is unreachable', async () => {
  const url = 'redis://127.0.0.1:1';
  const worker = startWorker({ REDIS_URL: url, REDIS_PREFIX: 'test-unreachable:' });
  const code = await withTimeout(worker.exited, 30_000, 'worker did not exit');
  assert.notEqual(code, 0);
  assert.equal(worker.stderr.length, 1, `stderr: ${worker.stderr.join('\n')}`);
  assert.ok(worker.stderr[0]!.includes(url), worker.stderr[0]);
  assert.match(worker.stderr[0]!, /redis-server/);
});
