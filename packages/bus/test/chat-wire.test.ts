import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBusMessage, encodeStored, encodeTransient } from '../src/chat-wire.ts';
import { roomChannel } from '../src/chat-channels.ts';

const frame = '{"id":42,"user_id":"abc","content":"tab\\t and ✓"}';

describe('chat wire', () => {
  it('carries a stored message: conversation, seq, id, stored-at and the frame bytes untouched', () => {
    const payload = Buffer.from(encodeStored('p:a:b', 7, 9_007_199_254_740_991, 1_764_000_000_123, frame));
    const message = decodeBusMessage(payload)!;
    assert.deepEqual(
      { ...message, frame: message.frame.toString() },
      { kind: 'stored', conversation: 'p:a:b', seq: 7, id: 9_007_199_254_740_991, storedAtMs: 1_764_000_000_123, frame },
    );
    // A view of the payload, not a copy: the fan-out sends it as it came.
    assert.equal(message.frame.buffer, payload.buffer);
  });

  it('carries a transient frame with zeros for the stored fields', () => {
    const message = decodeBusMessage(Buffer.from(encodeTransient('group', '{"msg_type":2}')))!;
    assert.deepEqual({ ...message, frame: String(message.frame) }, {
      kind: 'transient',
      conversation: 'group',
      seq: 0,
      id: 0,
      storedAtMs: 0,
      frame: '{"msg_type":2}',
    });
  });

  it('refuses what this version does not understand, including version 1 payloads', () => {
    for (const bad of [
      'm\t3\t1764000000000\t{"id":1}', // version 1
      'p\t0\t0\t{}',
      '3\tm\tgroup\t1\t1\t1\t{}', // a later version
      '2\tx\tgroup\t1\t1\t1\t{}', // an unknown kind
      '2\tm\t\t1\t1\t1\t{}', // no conversation
      '2\tm\tgroup\t1\t1\t{}', // a field missing
      '2\tm\tgroup\t-1\t1\t1\t{}',
      '2\tm\tgroup\t1\t1e3\t1\t{}',
      '2\tm\tgroup\t1\t99999999999999999999\t1\t{}',
      '2\tm\tgroup\t1\t1\t1',
      '',
      '2',
    ]) {
      assert.equal(decodeBusMessage(Buffer.from(bad)), undefined, JSON.stringify(bad));
    }
  });

  it('refuses a conversation it could not carry', () => {
    assert.throws(() => encodeStored('a\tb', 1, 1, 1, '{}'), /without tabs/);
    assert.throws(() => encodeTransient('', '{}'), /non-empty/);
  });

  it('names room channels with a hash tag', () => {
    assert.equal(roomChannel('p:a:b'), 'room:{p:a:b}');
  });
});
