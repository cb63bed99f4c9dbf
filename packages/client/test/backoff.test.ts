import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../src/index.ts';

test('reconnect delays double from 500 ms up to 30 s, half fixed and half jitter', () => {
  const low = (attempt: number) => backoffDelay(attempt, {}, () => 0);
  const high = (attempt: number) => backoffDelay(attempt, {}, () => 0.999_999);
  assert.deepEqual([0, 1, 2, 3, 4].map(low), [250, 500, 1000, 2000, 4000]);
  assert.deepEqual([0, 1, 2, 3, 4].map(high), [500, 1000, 2000, 4000, 8000]);
  // Capped: never more than maxMs, never less than half of it once there.
  assert.equal(high(20), 30_000);
  assert.equal(low(20), 15_000);
  assert.equal(high(5_000), 30_000, 'huge attempt counts do not overflow');
});

test('jitter spreads a crowd: many clients retrying at once do not pick the same delay', () => {
  const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(3)));
  assert.ok(delays.size > 100, `only ${delays.size} distinct delays out of 200`);
  for (const delay of delays) assert.ok(delay >= 2000 && delay <= 4000, `delay ${delay} outside [2000, 4000]`);
});

test('options change the start, the growth and the cap', () => {
  assert.equal(backoffDelay(2, { initialMs: 100, factor: 3, maxMs: 10_000 }, () => 0.5), 675);
  assert.equal(backoffDelay(10, { initialMs: 100, factor: 3, maxMs: 10_000 }, () => 0.5), 7_500);
});
