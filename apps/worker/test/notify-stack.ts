import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Config } from '@im/config';
import { createMessageWriter, createSqlRunner, type MessageWriter, type SqlRunner } from '@im/db';
import { createMailQueue, type MailQueue } from '@im/jobs';
import { createLogger } from '@im/logger';
import { createRedisPresence, type Presence } from '@im/presence';
import { privateConversation } from '@im/protocol';
import { createTestDatabase, startSmtpSink, type SmtpSink, type TestDatabase } from '@im/testing';
import { loadConfig } from '@im/config';
import type { Worker } from 'bullmq';
import { createMailTransport } from '../src/mail-transport.ts';
import { createMailWorker } from '../src/mail-worker.ts';
import { createNotifications, type Notifications, type NotificationOutcome } from '../src/notifications/index.ts';
import { createRedisFixture, type RedisFixture } from './redis-fixture.ts';

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

export type NotificationSettings = Config['notifications'];

/** Small retry delays and a long settle time: tests drive the notifier's passes themselves. */
export function testSettings(endpoints: NotificationSettings['webhooks']['endpoints'], digest: Partial<NotificationSettings['digest']> = {}): NotificationSettings {
  return {
    enabled: true,
    poll_ms: 100,
    batch_size: 100,
    settle_ms: 60_000,
    lease_ms: 5_000,
    job_retention_seconds: 3600,
    webhooks: { attempts: 3, backoff_ms: 50, timeout_ms: 2_000, endpoints },
    digest: { interval_seconds: 2, collect_seconds: 0, max_messages: 10, ...digest },
  };
}

export interface NotifyStack {
  db: TestDatabase;
  sql: SqlRunner;
  redis: RedisFixture;
  commands: Redis;
  writer: MessageWriter;
  sink: SmtpSink;
  mail: MailQueue;
  mailWorker: Worker;
  notifications: Notifications;
  presence: Presence;
  outcomes: Array<[string, NotificationOutcome]>;
  /** user id → username */
  names: Map<string, string>;
  /** Inserts a user; `digest` opts in. */
  user(name: string, digest?: 'zh' | 'en'): Promise<string>;
  /** Stores a private message the way a gateway does. */
  sendPrivate(from: string, to: string, content: string, clientMsgId?: string): Promise<string>;
  sendRoom(roomId: string, from: string, content: string): Promise<string>;
  room(members: string[]): Promise<string>;
  /** A new notifier on the same settings, as a second worker (or the same one restarted) would be; `notifications` is it from now on. */
  renewNotifications(): Notifications;
  close(): Promise<void>;
}

export async function startNotifyStack(settings: NotificationSettings): Promise<NotifyStack> {
  const db = await createTestDatabase();
  const sql = createSqlRunner({ url: db.url });
  const redis = await createRedisFixture();
  const commands = new Redis(loadConfig().redis.url);
  const writer = createMessageWriter({ url: db.url });
  const sink = await startSmtpSink();
  const logger = createLogger({ service: 'worker-test', level: 'silent' });
  const mail = createMailQueue({ connection: commands, prefix: redis.prefix });
  const transport = createMailTransport({ smtp_url: sink.url, outbox_dir: 'unused' });
  const mailWorker = createMailWorker({
    connection: redis.connection,
    prefix: redis.prefix,
    transport,
    from: 'IM <no-reply@im.test>',
    logger,
  });
  const presence = createRedisPresence({ redis: commands, prefix: redis.prefix, gatewayId: 'notify-test', leaseMs: 10_000, heartbeatMs: 2_000 });
  await presence.start();
  const outcomes: Array<[string, NotificationOutcome]> = [];
  const config = { notifications: settings, redis: { ...loadConfig().redis, prefix: redis.prefix } };
  const make = () =>
    createNotifications({ config, sql, workerRedis: redis.connection, redis: commands, mail, logger, onOutcome: (c, o) => outcomes.push([c, o]) });
  const all: Notifications[] = [make()];
  await all[0]!.ready();
  // As the worker does when it starts: the first pass puts the cursor at the newest message.
  await all[0]!.notifier.pass();
  let counter = 0;
  const stack: NotifyStack = {
    db,
    sql,
    redis,
    commands,
    writer,
    sink,
    mail,
    mailWorker,
    presence,
    outcomes,
    names: new Map(),
    get notifications() {
      return all.at(-1)!;
    },
    async user(name, digest) {
      counter += 1;
      const id = randomBytes(5).toString('hex');
      await sql.query("INSERT INTO users (user_id, email, username, password_hash, avatar, updated_at) VALUES (?, ?, ?, 'x', 'a', UTC_TIMESTAMP(3))", [
        id,
        `${name}${counter}@example.test`,
        `${name}${counter}`,
      ]);
      stack.names.set(id, `${name}${counter}`);
      if (digest) {
        await sql.query('INSERT INTO notification_settings (user_id, digest_enabled, language, updated_at) VALUES (?, true, ?, UTC_TIMESTAMP(3))', [id, digest]);
      }
      return id;
    },
    async sendPrivate(from, to, content, clientMsgId) {
      const result = await writer.write({
        conversation: privateConversation(from, to),
        senderId: from,
        targetId: to,
        msgType: 4,
        content,
        clientMsgId: clientMsgId ?? null,
        fileId: null,
        onlineCount: 1,
      });
      return String(result.id);
    },
    async sendRoom(roomId, from, content) {
      const result = await writer.write({ conversation: `r:${roomId}`, senderId: from, targetId: null, msgType: 4, content, clientMsgId: null, fileId: null, onlineCount: 1 });
      return String(result.id);
    },
    async room(members) {
      const roomId = randomBytes(6).toString('hex');
      await sql.query("INSERT INTO rooms (room_id, name, owner_id, member_count, updated_at) VALUES (?, 'Team room', ?, ?, UTC_TIMESTAMP(3))", [roomId, members[0], members.length]);
      for (const [i, userId] of members.entries()) {
        await sql.query('INSERT INTO conversation_members (conversation, user_id, role) VALUES (?, ?, ?)', [`r:${roomId}`, userId, i === 0 ? 'owner' : 'member']);
      }
      return roomId;
    },
    renewNotifications() {
      const next = make();
      all.push(next);
      return next;
    },
    async close() {
      for (const n of all) await n.close();
      await mailWorker.close();
      // The SMTP pool keeps its connection open; the sink would wait for it to time out.
      transport.close();
      await mail.close();
      await presence.stop();
      await writer.close();
      await sql.close();
      await sink.close();
      await commands.quit();
      await redis.cleanup();
      await db.drop();
    },
  };
  return stack;
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
