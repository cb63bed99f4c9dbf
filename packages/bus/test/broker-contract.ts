import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../src/broker.ts';
import { Inbox } from './inbox.ts';

/** Two brokers on one backend, standing for two gateway processes. */
export interface BrokerPair {
  a: Broker;
  b: Broker;
  /** Closes both brokers and whatever the factory opened for them. */
  close(): Promise<void>;
}

/** Builds a pair whose brokers report handler exceptions to `onError`. */
export type BrokerPairFactory = (options: { onError: (err: unknown) => void }) => Promise<BrokerPair>;

/** What every Broker implementation must do; registered as node:test tests under `name`. */
export function brokerContract(name: string, factory: BrokerPairFactory): void {
  describe(`Broker contract: ${name}`, () => {
    let pair: BrokerPair;
    let errors: unknown[] = [];
    // A fresh channel per test, so nothing a test leaves behind reaches another.
    let channel = '';

    before(async () => {
      pair = await factory({ onError: (err) => errors.push(err) });
    });
    after(async () => {
      await pair.close();
    });
    beforeEach(() => {
      errors = [];
      channel = `room-${randomUUID()}`;
    });

    it('delivers to every handler of the channel, including the publisher process', async () => {
      const first = new Inbox();
      const second = new Inbox();
      await pair.a.subscribe(channel, first.handler);
      await pair.a.subscribe(channel, second.handler);

      await pair.a.publish(channel, 'hello');

      assert.deepEqual(await first.until(1), [Buffer.from('hello')]);
      assert.deepEqual(await second.until(1), [Buffer.from('hello')]);
      await pair.a.unsubscribe(channel, first.handler);
      await pair.a.unsubscribe(channel, second.handler);
    });

    it('does not deliver messages of other channels', async () => {
      const mine = new Inbox();
      const other = new Inbox();
      const otherChannel = `${channel}-other`;
      await pair.b.subscribe(channel, mine.handler);
      await pair.b.subscribe(otherChannel, other.handler);

      await pair.a.publish(otherChannel, 'not for you');

      // Once the other channel's handler ran, this process has dispatched the message.
      await other.until(1);
      assert.equal(mine.payloads.length, 0);
      await pair.b.unsubscribe(channel, mine.handler);
      await pair.b.unsubscribe(otherChannel, other.handler);
    });

    it("lets two processes see each other's messages", async () => {
      const inA = new Inbox();
      const inB = new Inbox();
      await pair.a.subscribe(channel, inA.handler);
      await pair.b.subscribe(channel, inB.handler);

      await pair.a.publish(channel, 'from a');
      await inB.until(1);
      await pair.b.publish(channel, 'from b');

      assert.deepEqual((await inA.until(2)).map(String), ['from a', 'from b']);
      assert.deepEqual((await inB.until(2)).map(String), ['from a', 'from b']);
      await pair.a.unsubscribe(channel, inA.handler);
      await pair.b.unsubscribe(channel, inB.handler);
    });

    it('stops delivery to an unsubscribed handler and keeps the others', async () => {
      const leaving = new Inbox();
      const staying = new Inbox();
      await pair.b.subscribe(channel, leaving.handler);
      await pair.b.subscribe(channel, staying.handler);

      await pair.b.unsubscribe(channel, leaving.handler);
      await pair.a.publish(channel, 'after leave');

      assert.deepEqual((await staying.until(1)).map(String), ['after leave']);
      assert.equal(leaving.payloads.length, 0);

      // With the last handler gone, a new subscription starts clean.
      await pair.b.unsubscribe(channel, staying.handler);
      const again = new Inbox();
      await pair.b.subscribe(channel, again.handler);
      await pair.a.publish(channel, 'second');
      assert.deepEqual((await again.until(1)).map(String), ['second']);
      assert.equal(staying.payloads.length, 1);
      await pair.b.unsubscribe(channel, again.handler);
    });

    it('registers a handler once even when subscribed twice', async () => {
      const inbox = new Inbox();
      const marker = new Inbox();
      await pair.b.subscribe(channel, inbox.handler);
      await pair.b.subscribe(channel, inbox.handler);
      await pair.b.subscribe(channel, marker.handler);

      await pair.a.publish(channel, 'once');

      await marker.until(1);
      assert.equal(inbox.payloads.length, 1);
      await pair.b.unsubscribe(channel, inbox.handler);
      await pair.b.unsubscribe(channel, marker.handler);
    });

    it('preserves per-channel order for 1,000 messages', async () => {
      const inbox = new Inbox();
      await pair.b.subscribe(channel, inbox.handler);
      const sent = Array.from({ length: 1_000 }, (_, i) => `m${i}`);

      await Promise.all(sent.map((text) => pair.a.publish(channel, text)));

      await inbox.until(sent.length, 10_000);
      assert.deepEqual(inbox.texts, sent);
      await pair.b.unsubscribe(channel, inbox.handler);
    });

    it('publishMany delivers each message on its channel, in order, after what was published before', async () => {
      const inbox = new Inbox();
      const other = new Inbox();
      const otherChannel = `${channel}-other`;
      await pair.b.subscribe(channel, inbox.handler);
      await pair.b.subscribe(otherChannel, other.handler);

      const before = pair.a.publish(channel, 'first');
      const results = await pair.a.publishMany([
        { channel, payload: 'second' },
        { channel: otherChannel, payload: Buffer.from('elsewhere') },
        { channel, payload: 'third' },
      ]);
      await before;

      assert.deepEqual(results, [undefined, undefined, undefined]);
      assert.deepEqual(await pair.a.publishMany([]), []);
      assert.deepEqual((await inbox.until(3)).map(String), ['first', 'second', 'third']);
      assert.deepEqual((await other.until(1)).map(String), ['elsewhere']);
      await assert.rejects(pair.a.publishMany([{ channel: '', payload: 'x' }]), /channel must be a non-empty string/);
      await pair.b.unsubscribe(channel, inbox.handler);
      await pair.b.unsubscribe(otherChannel, other.handler);
    });

    it('isolates a throwing handler from the others', async () => {
      const boom = new Error('handler bug');
      const earlier = new Inbox();
      const later = new Inbox();
      const thrower = () => {
        throw boom;
      };
      await pair.b.subscribe(channel, earlier.handler);
      await pair.b.subscribe(channel, thrower);
      await pair.b.subscribe(channel, later.handler);

      await pair.a.publish(channel, 'one');
      await pair.a.publish(channel, 'two');

      assert.deepEqual((await later.until(2)).map(String), ['one', 'two']);
      assert.deepEqual((await earlier.until(2)).map(String), ['one', 'two']);
      assert.deepEqual(errors, [boom, boom]);
      for (const handler of [earlier.handler, thrower, later.handler]) {
        await pair.b.unsubscribe(channel, handler);
      }
    });

    it('carries payloads byte for byte', async () => {
      const inbox = new Inbox();
      await pair.b.subscribe(channel, inbox.handler);
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d, 0x0a]);
      const large = Buffer.alloc(256 * 1024, 0xab);

      await pair.a.publish(channel, everyByte);
      await pair.a.publish(channel, invalidUtf8);
      await pair.a.publish(channel, 'héllo ✓ 😀');
      await pair.a.publish(channel, '');
      await pair.a.publish(channel, large);

      const received = await inbox.until(5);
      assert.ok(received.every((payload) => Buffer.isBuffer(payload)));
      assert.deepEqual(received, [everyByte, invalidUtf8, Buffer.from('héllo ✓ 😀'), Buffer.alloc(0), large]);
      await pair.b.unsubscribe(channel, inbox.handler);
    });

    it('never delivers before publish() returns', async () => {
      const inbox = new Inbox();
      await pair.a.subscribe(channel, inbox.handler);

      const publishing = pair.a.publish(channel, 'async');
      assert.equal(inbox.payloads.length, 0);

      await publishing;
      await inbox.until(1);
      await pair.a.unsubscribe(channel, inbox.handler);
    });

    it('rejects bad arguments with a clear error', async () => {
      await assert.rejects(pair.a.publish('', 'x'), /channel must be a non-empty string/);
      await assert.rejects(pair.a.publish(channel, 42 as unknown as string), /payload must be a Buffer or a string/);
      await assert.rejects(pair.a.subscribe(channel, 'nope' as never), /handler must be a function/);
    });

    it('is healthy while open', () => {
      assert.equal(pair.a.isHealthy(), true);
      assert.equal(pair.b.isHealthy(), true);
    });
  });
}
