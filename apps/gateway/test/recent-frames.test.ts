import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prepareTextFrame } from '../src/connections/prepared-frame.ts';
import { RecentFrames, RecentFramesBudget } from '../src/fanout/recent-frames.ts';

const frame = (id: number, pad = 0) => prepareTextFrame(Buffer.from(JSON.stringify({ id, content: 'x'.repeat(pad) })));

/** Seq s has id 100 + 10·s: ids grow with seqs but are not consecutive, as in a shared table. */
const idOf = (seq: number) => 100 + 10 * seq;

function filled(budget: RecentFramesBudget, from: number, to: number, floor = { seq: from - 1, id: idOf(from - 1) as number | undefined }) {
  const recent = new RecentFrames(budget, floor.seq, floor.id);
  for (let seq = from; seq <= to; seq += 1) recent.push(seq, idOf(seq), frame(idOf(seq)));
  return recent;
}

describe('recent frames for catch-up', () => {
  it('answers a last_id inside or at the end of what it holds, with the seq the client already has', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 1, 10);
    const mid = recent.after(idOf(6), 100)!;
    assert.deepEqual(mid.frames.map((f) => f.seq), [7, 8, 9, 10]);
    assert.equal(mid.throughSeq, 6);
    assert.equal(mid.more, false);
    // A last_id between two of the room's ids (another room's message): the next one on.
    assert.deepEqual(recent.after(idOf(6) + 5, 100)!.frames.map((f) => f.seq), [7, 8, 9, 10]);
    const end = recent.after(idOf(10), 100)!;
    assert.deepEqual(end.frames, []);
    assert.equal(end.throughSeq, 10);
  });

  it('pages: at most `max` frames, and says when more follow', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 1, 10);
    const first = recent.after(idOf(0), 4)!;
    assert.deepEqual(first.frames.map((f) => f.seq), [1, 2, 3, 4]);
    assert.equal(first.more, true);
    assert.deepEqual(recent.after(first.frames.at(-1)!.id, 4)!.frames.map((f) => f.seq), [5, 6, 7, 8]);
  });

  it('refuses a last_id older than the newest message it does not hold: MySQL must answer', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 5, 10);
    assert.equal(recent.after(idOf(3), 100), undefined);
    // The floor itself (seq 4) is covered: everything after it is held.
    assert.deepEqual(recent.after(idOf(4), 100)!.frames.map((f) => f.seq), [5, 6, 7, 8, 9, 10]);
  });

  it('refuses a last_id newer than anything delivered here: only MySQL knows that message\'s seq', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 1, 10);
    // The client saw seq 11 through another gateway before this one delivered it: answering
    // "nothing after it, through seq 10" would send seq 11 again when it arrives live.
    assert.equal(recent.after(idOf(11), 100), undefined);
    const empty = filled(new RecentFramesBudget(1 << 20), 5, 4);
    assert.deepEqual(empty.after(idOf(4), 100), { frames: [], throughSeq: 4, more: false });
    assert.equal(empty.after(idOf(5), 100), undefined);
  });

  it('with an unknown floor, only last_ids from its first frame on are answered', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 5, 10, { seq: 4, id: undefined });
    assert.equal(recent.after(idOf(4), 100), undefined);
    assert.deepEqual(recent.after(idOf(5), 100)!.frames.map((f) => f.seq), [6, 7, 8, 9, 10]);
  });

  it('a frame without a readable id restarts the buffer after it', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 1, 5);
    recent.skip(6);
    recent.push(7, idOf(7), frame(idOf(7)));
    assert.equal(recent.after(idOf(5), 100), undefined, 'seq 6 is unknown by id');
    assert.deepEqual(recent.after(idOf(7), 100)!.frames, []);
    assert.equal(recent.after(idOf(7), 100)!.throughSeq, 7);
  });

  it('a gap in seqs restarts the buffer instead of answering across it', () => {
    const recent = filled(new RecentFramesBudget(1 << 20), 1, 5);
    recent.push(8, idOf(8), frame(idOf(8)));
    assert.equal(recent.after(idOf(5), 100), undefined);
    assert.deepEqual(recent.after(idOf(8), 100)!.frames, []);
  });

  it('all rooms share one byte budget; the oldest frames anywhere go first', () => {
    const one = frame(idOf(1), 200);
    const perFrame = one.wire.length + one.payload.length + 96;
    const budget = new RecentFramesBudget(perFrame * 10);
    const a = new RecentFrames(budget, 0, 0);
    const b = new RecentFrames(budget, 0, 0);
    for (let seq = 1; seq <= 8; seq += 1) a.push(seq, idOf(seq), frame(idOf(seq), 200));
    for (let seq = 1; seq <= 6; seq += 1) b.push(seq, idOf(seq), frame(idOf(seq), 200));
    assert.ok(budget.usedBytes <= budget.maxBytes, `${budget.usedBytes} > ${budget.maxBytes}`);
    assert.equal(a.size + b.size, 10);
    assert.equal(a.size, 4, "room a's four oldest frames were the oldest anywhere");
    assert.equal(b.size, 6);
    assert.equal(a.after(idOf(3), 100), undefined, 'evicted');
    assert.deepEqual(a.after(idOf(4), 100)!.frames.map((f) => f.seq), [5, 6, 7, 8]);
  });

  it('a discarded room frees its bytes at once, and its queue slots stay bounded', () => {
    const budget = new RecentFramesBudget(50_000);
    for (let round = 0; round < 200; round += 1) {
      const room = filled(budget, 1, 20);
      room.discard();
      assert.equal(room.size, 0);
    }
    assert.ok(budget.usedBytes <= budget.maxBytes);
    assert.ok(budget.frameCount <= 50_000 / 16 + 1, `${budget.frameCount} queue slots`);
    const live = filled(budget, 1, 20);
    assert.equal(live.size, 20, 'stale slots never take live frames');
  });

  it('a budget of 0 keeps nothing', () => {
    const budget = new RecentFramesBudget(0);
    const recent = filled(budget, 1, 5);
    assert.equal(recent.size, 0);
    assert.equal(budget.usedBytes, 0);
    assert.deepEqual(recent.after(idOf(5), 10)!.frames, [], 'still knows where the room stands');
    assert.equal(recent.after(idOf(4), 10), undefined);
  });
});
