import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '@im/testing';
import { Queue } from 'bullmq';
import { queuePrefix } from '@im/jobs';
import { createDeadLetters } from '../src/notifications/index.ts';
import { OFFLINE_QUEUE, offlineEventId } from '../src/notifications/events.ts';
import { createWebhookQueues } from '../src/notifications/webhook-queues.ts';
import { replayDeadLetter } from '../src/notifications/replay.ts';
import { eventually, SECRET, startNotifyStack, testSettings, type NotifyStack } from './notify-stack.ts';

interface OfflinePayload {
  type: string;
  timestamp: string;
  data: { recipient_id: string; reason: string; message: { id: string; conversation: string; user_id: string; content: string; room?: { name: string } } };
}

const about = (messageId: string) => (hook: ReceivedWebhook) => (hook.payload as OfflinePayload | undefined)?.data.message.id === messageId;

describe('offline messages become signed webhooks', () => {
  let stack: NotifyStack;
  let crm: WebhookReceiver;
  let other: WebhookReceiver;

  before(async () => {
    [crm, other] = await Promise.all([startWebhookReceiver(SECRET), startWebhookReceiver(SECRET)]);
    // crm delivers one at a time, so its deliveries arrive in the order the messages were stored.
    stack = await startNotifyStack(
      testSettings([
        { name: 'crm', url: crm.url, secret: SECRET, events: ['message.offline'], concurrency: 1 },
        { name: 'other', url: other.url, secret: SECRET, events: ['message.offline'], concurrency: 2 },
      ]),
    );
  });
  after(async () => {
    await stack?.close();
    await Promise.all([crm?.close(), other?.close()]);
  });

  it('an offline recipient gets exactly one signed webhook per endpoint, however often the message is read', async () => {
    const [ann, bob] = [await stack.user('ann'), await stack.user('bob')];
    const id = await stack.sendPrivate(ann, bob, 'are you there?', 'c-1');
    // The same client_msg_id again: the writer returns the stored message, no new row.
    assert.equal(await stack.sendPrivate(ann, bob, 'are you there?', 'c-1'), id);
    await stack.notifications.notifier.pass();
    const [hook] = await crm.waitFor(about(id));
    assert.equal(hook!.error, undefined, 'the signature verifies');
    // The scheme as docs/webhooks.md spells it out for receivers without a library.
    const key = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');
    const signed = `${String(hook!.headers['webhook-id'])}.${String(hook!.headers['webhook-timestamp'])}.${hook!.body}`;
    assert.equal(hook!.headers['webhook-signature'], `v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
    assert.equal(hook!.headers['webhook-id'], `msg_${id}_${bob}`);
    const payload = hook!.payload as OfflinePayload;
    assert.equal(payload.type, 'message.offline');
    assert.equal(payload.data.recipient_id, bob);
    assert.equal(payload.data.reason, 'private');
    assert.equal(payload.data.message.user_id, ann);
    assert.equal(payload.data.message.content, 'are you there?');
    await other.waitFor(about(id));

    // A second worker (or this one after a crash) reads the same message again from the durable
    // cursor, which has not moved past it (settle_ms): its jobs exist, nothing is sent twice.
    const first = stack.notifications;
    const again = stack.renewNotifications();
    await first.notifier.stop();
    await again.notifier.pass();
    const later = await stack.sendPrivate(bob, ann, 'back now');
    await again.notifier.pass();
    await crm.waitFor(about(later));
    assert.equal(crm.received.filter(about(id)).length, 1, 'one delivery of the first message');
    assert.equal(other.received.filter(about(id)).length, 1);
    assert.equal(crm.received.filter(about(later))[0]!.headers['webhook-id'], `msg_${later}_${ann}`, 'the sender is never notified');
  });

  it('an online recipient gets none; room messages notify the mentioned, or everyone on @all, never the sender', async () => {
    const [cat, dan, eve, fay] = [await stack.user('cat'), await stack.user('dan'), await stack.user('eve'), await stack.user('fay')];
    // dan holds a Part 1 socket on the private chat; fay a Part 2 socket.
    await stack.presence.connect(`p:${[cat, dan].sort().join(':')}`, dan);
    await stack.presence.connectUser(fay);
    const room = await stack.room([cat, dan, eve, fay]);
    const toOnline = await stack.sendPrivate(cat, dan, 'you are online');
    const plain = await stack.sendRoom(room, cat, 'hello room, no mention here');
    const mention = await stack.sendRoom(room, cat, `@${stack.names.get(eve)} please look, and @${stack.names.get(cat)} too (mail@${stack.names.get(dan)} is no mention)`);
    const all = await stack.sendRoom(room, eve, '@all meeting now');
    await stack.notifications.notifier.pass();
    const hooks = await crm.waitFor((h) => [mention, all].some((id) => about(id)(h)), 3);
    const pairs = hooks.map((h) => {
      const p = h.payload as OfflinePayload;
      return `${p.data.message.id}>${p.data.recipient_id}:${p.data.reason}`;
    });
    // crm is sequential and gets the jobs in stored order: anything for the earlier messages
    // (online peer, no mention) would have arrived before these.
    // dan's Part 1 socket is on the private chat only: for the room he is offline.
    assert.deepEqual(pairs.sort(), [`${all}>${cat}:all`, `${all}>${dan}:all`, `${mention}>${eve}:mention`].sort());
    for (const id of [toOnline, plain]) assert.equal(crm.received.filter(about(id)).length, 0);
    // The pass is over: every job it made exists; none was made for the online peer or the plain message.
    const offline = new Queue(OFFLINE_QUEUE, { connection: stack.commands, prefix: queuePrefix(stack.redis.prefix, stack.commands) });
    for (const userId of [cat, dan, eve, fay]) {
      assert.equal(await offline.getJob(offlineEventId(toOnline, userId)), undefined);
      assert.equal(await offline.getJob(offlineEventId(plain, userId)), undefined);
    }
    assert.notEqual(await offline.getJob(offlineEventId(mention, eve)), undefined, 'the lookup finds jobs that exist');
    await offline.close();
    assert.equal((hooks[0]!.payload as OfflinePayload).data.message.room?.name, 'Team room');
  });
});

describe('webhook retries and dead letters', () => {
  let stack: NotifyStack;
  let flaky: WebhookReceiver;
  let refusing: WebhookReceiver;

  before(async () => {
    [flaky, refusing] = await Promise.all([startWebhookReceiver(SECRET), startWebhookReceiver(SECRET)]);
    flaky.respond = (n) => (n === 1 ? 500 : 200);
    refusing.respond = () => 400;
    stack = await startNotifyStack(
      testSettings([
        { name: 'flaky', url: flaky.url, secret: SECRET, events: ['message.offline'], concurrency: 1 },
        { name: 'refusing', url: refusing.url, secret: SECRET, events: ['message.offline'], concurrency: 1 },
      ]),
    );
  });
  after(async () => {
    await stack?.close();
    await Promise.all([flaky?.close(), refusing?.close()]);
  });

  it('500 then 200: delivered after a retry; 400: sent once and kept as a dead letter that can be replayed', async () => {
    const [gus, hal] = [await stack.user('gus'), await stack.user('hal')];
    const id = await stack.sendPrivate(gus, hal, 'retry me');
    await stack.notifications.notifier.pass();
    const attempts = await flaky.waitFor(about(id), 2);
    assert.deepEqual(attempts.map((h) => h.status), [500, 200]);
    assert.equal(attempts[0]!.headers['webhook-id'], attempts[1]!.headers['webhook-id'], 'a retry keeps the webhook-id');
    assert.equal(attempts[0]!.body, attempts[1]!.body);

    const deadLetters = createDeadLetters(stack.sql);
    const letter = await eventually('a dead letter for the 400', async () => (await deadLetters.list()).find((l) => l.eventId === `msg_${id}_${hal}`));
    assert.equal(letter.endpoint, 'refusing');
    assert.equal(letter.lastStatus, 400);
    assert.equal(letter.attempts, 1);
    assert.equal(refusing.received.filter(about(id)).length, 1, 'a 4xx is not retried');
    await eventually('the metrics counted it', async () => (stack.outcomes.some(([c, o]) => c === 'webhook' && o === 'failed') ? true : undefined));
    assert.ok(stack.outcomes.some(([c, o]) => c === 'webhook' && o === 'retried'));
    assert.ok(stack.outcomes.some(([c, o]) => c === 'webhook' && o === 'delivered'));

    // The operator fixes the receiver and replays: same id and body, fresh signature.
    refusing.respond = () => 200;
    const queues = createWebhookQueues({ connection: stack.commands, prefix: stack.redis.prefix, endpoints: [{ name: 'refusing', url: refusing.url, secret: SECRET, events: ['message.offline'], concurrency: 1 }], attempts: 3, backoffMs: 50, retentionSeconds: 60 });
    await replayDeadLetter(deadLetters, queues, letter.id);
    await queues.close();
    const [, replayed] = await refusing.waitFor(about(id), 2);
    assert.equal(replayed!.status, 200);
    assert.equal(replayed!.error, undefined);
    assert.equal(replayed!.body, letter.body);
    assert.notEqual((await deadLetters.find(letter.id))!.replayedAt, null);
  });
});
