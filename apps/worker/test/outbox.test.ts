import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { createMailQueue, type MailJob } from '@im/jobs';
import { createMailTransport } from '../src/mail-transport.ts';
import { createMailWorker } from '../src/mail-worker.ts';
import { captureLogger } from './capture-logger.ts';
import { createRedisFixture } from './redis-fixture.ts';

test('without smtp_url a mail lands as an .eml file in the outbox, and the log names the file only', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'im-outbox-'));
  // Not created yet: the transport must make it.
  const outbox = join(root, 'outbox');
  const redis = await createRedisFixture();
  const log = captureLogger();
  const transport = createMailTransport({ smtp_url: '', outbox_dir: outbox });
  const queue = createMailQueue({ connection: redis.connection, prefix: redis.prefix });
  const worker = createMailWorker({
    connection: redis.connection,
    prefix: redis.prefix,
    transport,
    from: 'IM Cluster <no-reply@im.test>',
    logger: log.logger,
  });
  t.after(async () => {
    await worker.close();
    await queue.close();
    transport.close();
    await redis.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  const mail: MailJob = {
    to: 'bob@example.test',
    subject: 'Your login code',
    text: 'Your login code is 730519.',
    html: '<p>Your login code is <b>730519</b>.</p>',
  };
  await queue.enqueue(mail);
  await once(worker, 'completed', { signal: AbortSignal.timeout(15_000) });

  const files = await readdir(outbox);
  assert.equal(files.length, 1, `outbox holds ${files.join(', ')}`);
  assert.match(files[0]!, /\.eml$/);
  const path = join(outbox, files[0]!);
  assert.equal((await stat(path)).mode & 0o777, 0o600);

  const raw = await readFile(path);
  assert.match(raw.toString('latin1'), /\r\n\r\n/, 'headers end with CRLF CRLF as RFC 5322 wants');
  const parsed = await simpleParser(raw);
  assert.equal(parsed.from?.value[0]?.address, 'no-reply@im.test');
  assert.deepEqual([parsed.to].flat().flatMap((to) => to?.value.map((a) => a.address)), ['bob@example.test']);
  assert.equal(parsed.subject, mail.subject);
  assert.equal(parsed.text?.trimEnd(), mail.text);
  assert.equal(parsed.html, mail.html);

  const sent = log.records().find((r) => r.msg === 'mail sent');
  assert.equal(sent?.path, path);
  assert.equal(sent?.toDomain, 'example.test');
  for (const line of log.lines) {
    assert.ok(!line.includes('730519'), `log line holds the login code: ${line}`);
    assert.ok(!line.includes('bob@'), `log line holds the full address: ${line}`);
    assert.ok(!line.includes(mail.subject), `log line holds the subject: ${line}`);
  }
});
