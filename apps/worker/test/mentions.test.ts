import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mentions } from '../src/notifications/mentions.ts';

test('a mention is @name standing alone: not inside an address, not a prefix of a longer name', () => {
  assert.equal(mentions('@ann hi', 'ann'), true);
  assert.equal(mentions('hi @ann', 'ann'), true);
  assert.equal(mentions('hi @ann, how are you', 'ann'), true);
  assert.equal(mentions('（@ann）你好', 'ann'), true);
  assert.equal(mentions('@ann：你好', 'ann'), true);
  assert.equal(mentions('@anna hi', 'ann'), false);
  assert.equal(mentions('mail ann@ann.org', 'ann'), false);
  assert.equal(mentions('mail x@ann', 'ann'), false);
  assert.equal(mentions('@Ann hi', 'ann'), false, 'names are matched as written');
  assert.equal(mentions('@ann smith here', 'ann smith'), true, 'names may hold spaces');
});

test('@all is any case, on its own', () => {
  assert.equal(mentions('@all meeting', 'all'), true);
  assert.equal(mentions('@ALL meeting', 'all'), true);
  assert.equal(mentions('@alliance meeting', 'all'), false);
  assert.equal(mentions('no one', 'all'), false);
});
