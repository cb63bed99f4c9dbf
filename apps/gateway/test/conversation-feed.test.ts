import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConversationHead } from '@im/db';
import type { PreparedFrame } from '../src/connections/prepared-frame.ts';
import { ConversationFeed, type FeedRecipient } from '../src/fanout/conversation-feed.ts';

/** A recipient that takes every frame, as a live socket does. */
function liveRecipient(): FeedRecipient & { seqs: number[] } {
  const seqs: number[] = [];
  return {
    userId: 'u1',
    seqs,
    deliver(seq: number, _frame: PreparedFrame) {
      seqs.push(seq);
      return true;
    },
    deliverTransient: () => true,
  };
}

/** A feed whose MySQL head answers when the test says, and whose history holds `stored`. */
function feedWithPendingHead(stored: Array<{ seq: number; id: number }>) {
  let answerHead!: (head: ConversationHead) => void;
  const feed = new ConversationFeed(
    'p:a:b',
    {
      head: () => new Promise<ConversationHead>((resolve) => (answerHead = resolve)),
      framesFromSeq: async (_conversation, fromSeq) =>
        stored.filter((m) => m.seq >= fromSeq).map((m) => ({ ...m, bytes: Buffer.from(`{"id":${m.id}}`) })),
    },
    { gapWaitMs: 10, onError: (err) => assert.fail(err as Error) },
  );
  return { feed, answerHead: (head: ConversationHead) => answerHead(head) };
}

/** A started feed with one live socket in it; `meanwhile` runs while MySQL is asked for the head. */
async function startedFeed(stored: Array<{ seq: number; id: number }>, head: ConversationHead, meanwhile: (feed: ConversationFeed) => void = () => {}) {
  const { feed, answerHead } = feedWithPendingHead(stored);
  const socket = liveRecipient();
  feed.recipients.add(socket);
  const started = feed.start();
  meanwhile(feed);
  answerHead(head);
  await started;
  return { feed, socket };
}

const message = (seq: number) => [seq, 100 + seq, Buffer.from(`{"id":${100 + seq}}`)] as const;

describe('ConversationFeed start', () => {
  it('delivers to a live recipient the messages that arrived while MySQL was asked where the feed starts, even those the head counts', async () => {
    // A private chat's feed is made with every local socket of both users in it, live ones included
    // (the sender's): the first message, stored while the feed asks MySQL, is its sender's echo.
    const { socket } = await startedFeed([{ seq: 1, id: 101 }], { seq: 1, id: 101 }, (feed) => feed.accept(...message(1)));
    assert.deepEqual(socket.seqs, [1]);
  });

  it('fills from MySQL what lies between an early message and the head, in order, once', async () => {
    const stored = [1, 2, 3].map((seq) => ({ seq, id: 100 + seq }));
    const { feed, socket } = await startedFeed(stored, { seq: 3, id: 103 }, (f) => f.accept(...message(2)));
    // The start reads what lies between from MySQL by itself.
    for (let waited = 0; socket.seqs.length < 2 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    feed.accept(...message(4));
    assert.deepEqual(socket.seqs, [2, 3, 4]);
  });

  it('delivers to a live recipient a message stored before the head was read that reaches the feed after it started', async () => {
    // The sender's own gateway hands its message to the feed once the store's answer is read,
    // which may come after MySQL answered the head read that already counted it.
    const { feed, socket } = await startedFeed([{ seq: 1, id: 101 }], { seq: 1, id: 101 });
    feed.accept(...message(1));
    feed.accept(...message(2));
    assert.deepEqual(socket.seqs, [1, 2]);
  });

  it('never goes back once something past the head went out (order first)', async () => {
    const { feed, socket } = await startedFeed([{ seq: 1, id: 101 }], { seq: 1, id: 101 });
    feed.accept(...message(2));
    feed.accept(...message(1));
    assert.deepEqual(socket.seqs, [2]);
  });

  it('starts after the head when nothing arrived meanwhile', async () => {
    const { feed, socket } = await startedFeed([{ seq: 1, id: 101 }], { seq: 1, id: 101 });
    feed.accept(...message(2));
    assert.deepEqual(socket.seqs, [2]);
  });
});
