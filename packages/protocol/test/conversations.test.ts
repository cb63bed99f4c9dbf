import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  conversationFrame,
  chatFrame,
  parseConversation,
  privateConversation,
  privatePeer,
  roomConversation,
  roomEventFrame,
} from '../src/index.ts';

const A = '0a1b2c3d4e';
const B = 'f0e1d2c3b4';

describe('parseConversation', () => {
  it('accepts the three canonical forms', () => {
    assert.deepEqual(parseConversation('group'), { kind: 'group', id: 'group' });
    assert.deepEqual(parseConversation('r:0123456789ab'), { kind: 'room', id: 'r:0123456789ab', roomId: '0123456789ab' });
    assert.deepEqual(parseConversation(`p:${A}:${B}`), { kind: 'private', id: `p:${A}:${B}`, userIds: [A, B] });
  });

  it('round-trips what the builders make, whichever way round the pair is given', () => {
    for (const id of [privateConversation(A, B), privateConversation(B, A), roomConversation('abcdefabcdef')]) {
      assert.equal(parseConversation(id)?.id, id);
    }
    assert.equal(privateConversation(B, A), `p:${A}:${B}`);
  });

  it('refuses every other spelling', () => {
    const bad = [
      '',
      'Group',
      'group ',
      ' group',
      'r:',
      'r:0123456789a',
      'r:0123456789abc',
      'r:0123456789AB',
      `p:${B}:${A}`, // unsorted
      `p:${A}:${A}`, // nobody's chat with themself
      `p:${A}`,
      `p:${A}:${B}:x`,
      `p:${A.toUpperCase()}:${B}`,
      'x:0123456789ab',
      'r:0123456789ab\n',
      'a'.repeat(33),
      42,
      null,
      undefined,
      { id: 'group' },
    ];
    for (const id of bad) assert.equal(parseConversation(id), undefined, `${JSON.stringify(id)} was accepted`);
  });

  it('names the peer of a private chat for a participant only', () => {
    const chat = parseConversation(`p:${A}:${B}`)!;
    assert.equal(privatePeer(chat, A), B);
    assert.equal(privatePeer(chat, B), A);
    assert.equal(privatePeer(chat, '9999999999'), undefined);
    assert.equal(privatePeer(parseConversation('group')!, A), undefined);
  });
});

describe('Part 2 frames', () => {
  it('puts conversation first and adds a signed url to the file, leaving the Part 1 frame as it was', () => {
    const file = { name: 'f.png', original_name: 'a.png', size: 3, type: 'png', mime_type: 'image/png', path: 'api/files/download?file=f.png' };
    const part1 = chatFrame(
      { id: 7n, msgType: 7, content: '', createdAt: new Date('2026-01-02T03:04:05.006Z'), onlineCount: 2, clientMsgId: null },
      { userId: A, username: 'ann', avatar: 'uploads/avatar/a.png' },
      undefined,
      file,
    );
    const before = JSON.stringify(part1);
    const frame = conversationFrame(part1, 'group', (name) => `signed:${name}`);

    assert.equal(JSON.stringify(part1), before);
    assert.deepEqual(Object.keys(frame), ['conversation', 'id', 'user_id', 'username', 'avatar', 'msg_type', 'content', 'date', 'online_count', 'file']);
    assert.deepEqual(frame.file, { ...file, url: 'signed:f.png' });
    assert.equal(conversationFrame({ ...part1, file: undefined }, 'group', () => 'never').file, undefined);
  });

  it('builds room events in the contract order, optional fields only when given', () => {
    const room = { room_id: '0123456789ab', name: 'n', owner_id: A, member_count: 2 };
    const date = new Date('2026-01-01T00:00:00.000Z');
    const added = roomEventFrame({ conversation: 'r:0123456789ab', event: 'member_added', room, userId: B, role: 'member', by: A, date });
    assert.deepEqual(Object.keys(added), ['conversation', 'msg_type', 'event', 'room', 'user_id', 'role', 'by', 'date']);
    assert.equal(added.msg_type, 11);
    const renamed = roomEventFrame({ conversation: 'r:0123456789ab', event: 'renamed', room, by: A, date });
    assert.deepEqual(Object.keys(renamed), ['conversation', 'msg_type', 'event', 'room', 'by', 'date']);
  });
});
