import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNotifyStack, testSettings, type NotifyStack } from './notify-stack.ts';

const INTERVAL_SECONDS = 2;

describe('digest mail of messages received while offline', () => {
  let stack: NotifyStack;

  before(async () => {
    stack = await startNotifyStack(testSettings([], { interval_seconds: INTERVAL_SECONDS, collect_seconds: 0 }));
  });
  after(async () => {
    await stack?.close();
  });

  it('lists the right messages, in the reader language, at most once per interval; users who did not opt in get none', async () => {
    const ivy = await stack.user('ivy');
    const jon = await stack.user('jon', 'en');
    const kim = await stack.user('kim', 'zh');
    const leo = await stack.user('leo');
    await stack.sendPrivate(ivy, jon, 'first for jon');
    await stack.sendPrivate(ivy, jon, 'second for jon');
    await stack.sendPrivate(ivy, kim, '给 kim 的消息');
    await stack.sendPrivate(ivy, leo, 'leo did not opt in');
    await stack.notifications.notifier.pass();

    const toJon = (mail: { to?: unknown }) => JSON.stringify(mail.to).includes(stack.names.get(jon)!);
    const first = await stack.sink.waitFor(toJon);
    assert.equal(first.subject, 'You have 2 new messages');
    assert.match(first.text!, /ivy\d+ \(private\): first for jon/);
    assert.match(first.text!, /ivy\d+ \(private\): second for jon/);
    const chinese = await stack.sink.waitFor((mail) => JSON.stringify(mail.to).includes(stack.names.get(kim)!));
    assert.equal(chinese.subject, '你有 1 条离线消息');
    assert.match(chinese.text!, /ivy\d+（私聊）: 给 kim 的消息/);

    // A third message right after: it waits for the interval and comes alone.
    await stack.sendPrivate(ivy, jon, 'third for jon');
    await stack.notifications.notifier.pass();
    const [, second] = await waitForMails(stack, toJon, 2);
    assert.equal(second!.subject, 'You have 1 new message');
    assert.match(second!.text!, /third for jon/);
    assert.doesNotMatch(second!.text!, /first for jon|second for jon/);
    // Date headers have whole seconds.
    assert.ok(second!.date!.getTime() - first.date!.getTime() >= (INTERVAL_SECONDS - 1) * 1000, 'the second digest waited out the interval');
    assert.equal(stack.sink.mails.filter(toJon).length, 2);
    assert.equal(stack.sink.mails.filter((mail) => JSON.stringify(mail.to).includes(stack.names.get(leo)!)).length, 0);
  });
});

async function waitForMails(stack: NotifyStack, match: (mail: { to?: unknown }) => boolean, count: number) {
  const deadline = Date.now() + 20_000;
  while (stack.sink.mails.filter(match).length < count) {
    if (Date.now() > deadline) throw new Error(`${count} mails not within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return stack.sink.mails.filter(match);
}
