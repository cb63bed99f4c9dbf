import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionRegistry } from '../src/connections/connection-registry.ts';
import type { Connection } from '../src/connections/connection.ts';
import { ExpiryQueue, type Expiring } from '../src/connections/expiry-queue.ts';

interface Item extends Expiring {
  name: string;
}

const item = (name: string, expiresAt: number): Item => ({ name, expiresAt, expiryIndex: -1 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('expiry queue', () => {
  it('expires each item at its time, earliest first, with one timer for all', async () => {
    const expired: Array<{ name: string; lateMs: number }> = [];
    const queue = new ExpiryQueue<Item>({ onExpired: (i) => expired.push({ name: i.name, lateMs: Date.now() - i.expiresAt }) });
    const now = Date.now();
    for (const [name, ms] of [['c', 120], ['a', 40], ['b', 80]] as const) queue.add(item(name, now + ms));
    while (expired.length < 3) await sleep(20);
    assert.deepEqual(expired.map((e) => e.name), ['a', 'b', 'c']);
    // Never early; "late" only by timer and scheduling noise (a check in a 25 s heartbeat would not pass).
    for (const e of expired) assert.ok(e.lateMs >= 0 && e.lateMs < 1_000, `${e.name} expired ${e.lateMs} ms after its time`);
    assert.equal(queue.size, 0);
  });

  it('never expires a removed item, and the rest still expire on time', async () => {
    const expired: string[] = [];
    const queue = new ExpiryQueue<Item>({ onExpired: (i) => expired.push(i.name) });
    const now = Date.now();
    const first = item('first', now + 30);
    queue.add(first);
    queue.add(item('second', now + 60));
    queue.remove(first);
    queue.remove(first);
    assert.equal(first.expiryIndex, -1);
    await sleep(120);
    assert.deepEqual(expired, ['second']);
  });

  it('waits for an expiry beyond setTimeout’s range instead of firing at once', async () => {
    const expired: string[] = [];
    const queue = new ExpiryQueue<Item>({ onExpired: (i) => expired.push(i.name) });
    const far = item('far', Date.now() + 2 ** 33);
    queue.add(far);
    await sleep(30);
    assert.deepEqual(expired, []);
    queue.remove(far);
    queue.stop();
  });

  it('keeps heap order through thousands of adds and removes', async () => {
    let clock = 0;
    const expired: Item[] = [];
    const queue = new ExpiryQueue<Item>({ onExpired: (i) => expired.push(i), now: () => clock });
    const items = Array.from({ length: 3000 }, (_, n) => item(String(n), 1 + Math.floor(Math.random() * 1e6)));
    for (const i of items) queue.add(i);
    const removed = new Set(items.filter((_, n) => n % 3 === 0));
    for (const i of removed) queue.remove(i);
    clock = 2e6; // everything is due: the timer (armed for 0 ms now) takes all in order
    queue.add(item('now', 1));
    await sleep(20);
    const kept = items.filter((i) => !removed.has(i));
    assert.equal(expired.length, kept.length + 1);
    for (let n = 1; n < expired.length; n++) assert.ok(expired[n - 1]!.expiresAt <= expired[n]!.expiresAt);
    assert.ok(expired.every((i) => !removed.has(i)));
  });

  it('expires nothing after stop()', async () => {
    const expired: string[] = [];
    const queue = new ExpiryQueue<Item>({ onExpired: (i) => expired.push(i.name) });
    queue.add(item('x', Date.now() + 10));
    queue.stop();
    await sleep(40);
    assert.deepEqual(expired, []);
  });
});

describe('connection registry', () => {
  const fake = (jti: string, expiresAt = Date.now() + 60_000) => ({ jti, expiresAt, expiryIndex: -1 }) as unknown as Connection;

  it('finds every socket of a token, one or several, and forgets closed ones', () => {
    const registry = new ConnectionRegistry(() => {});
    const [a1, a2, a3, b] = [fake('a'), fake('a'), fake('a'), fake('b')];
    for (const c of [a1, a2, a3, b, a1]) registry.add(c);
    assert.equal(registry.size, 4);
    assert.deepEqual(new Set(registry.withJti('a')), new Set([a1, a2, a3]));
    assert.deepEqual(registry.withJti('b'), [b]);
    assert.deepEqual(registry.withJti('none'), []);
    registry.remove(a2);
    registry.remove(a3);
    registry.remove(a3);
    assert.deepEqual(registry.withJti('a'), [a1]);
    assert.deepEqual(new Set(registry.all()), new Set([a1, b]));
    assert.deepEqual(new Set(registry.jtis()), new Set(['a', 'b']));
    registry.remove(a1);
    registry.remove(b);
    assert.equal(registry.size, 0);
    assert.deepEqual([...registry.all()], []);
    registry.stop();
  });

  it('reports a token’s expiry for each of its sockets, and not for removed ones', async () => {
    const expired: Connection[] = [];
    const registry = new ConnectionRegistry((c) => expired.push(c));
    const soon = Date.now() + 20;
    const [x1, x2, gone] = [fake('x', soon), fake('x', soon), fake('y', soon)];
    for (const c of [x1, x2, gone]) registry.add(c);
    registry.remove(gone);
    await sleep(80);
    assert.deepEqual(new Set(expired), new Set([x1, x2]));
    registry.stop();
  });
});
