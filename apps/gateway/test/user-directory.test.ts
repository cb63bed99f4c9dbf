import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { UserSummary } from '@im/protocol';
import { UserDirectory } from '../src/upgrade/user-directory.ts';

function fakeUsers(ids: string[]) {
  const known = new Map<string, UserSummary>(ids.map((id) => [id, { userId: id, username: `name-${id}`, avatar: `a/${id}.png` }]));
  const queries: string[][] = [];
  return {
    known,
    queries,
    load: async (userIds: string[]) => {
      queries.push(userIds);
      return userIds.flatMap((id) => (known.has(id) ? [known.get(id)!] : []));
    },
  };
}

describe('user directory', () => {
  it('reads the users asked for in one tick with one query per batch, and remembers them', async () => {
    const ids = Array.from({ length: 1_200 }, (_, i) => `u${i}`);
    const db = fakeUsers(ids);
    const directory = new UserDirectory({ load: db.load, maxBatch: 500 });
    const users = await Promise.all([...ids, ...ids.slice(0, 100)].map((id) => directory.get(id)));
    assert.equal(users.length, 1_300);
    assert.deepEqual(users[7], db.known.get('u7'));
    assert.deepEqual(db.queries.map((q) => q.length), [500, 500, 200], 'each id read once, in batches');
    await directory.get('u3');
    assert.equal(db.queries.length, 3, 'remembered');
  });

  it('does not remember unknown ids, so a user created a moment later is found', async () => {
    const db = fakeUsers([]);
    const directory = new UserDirectory({ load: db.load });
    assert.equal(await directory.get('new'), undefined);
    db.known.set('new', { userId: 'new', username: 'newcomer', avatar: '' });
    assert.equal((await directory.get('new'))?.username, 'newcomer');
  });

  it('forgets after the TTL', async () => {
    const db = fakeUsers(['x']);
    const directory = new UserDirectory({ load: db.load, ttlMs: 20 });
    await directory.get('x');
    db.known.set('x', { userId: 'x', username: 'renamed', avatar: '' });
    assert.equal((await directory.get('x'))?.username, 'name-x');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal((await directory.get('x'))?.username, 'renamed');
  });

  it('a failed query fails its lookups and is not remembered', async () => {
    let fail = true;
    const directory = new UserDirectory({
      load: async (ids) => {
        if (fail) throw new Error('mysql down');
        return ids.map((id) => ({ userId: id, username: id, avatar: '' }));
      },
    });
    await assert.rejects(directory.get('y'), /mysql down/);
    fail = false;
    assert.equal((await directory.get('y'))?.userId, 'y');
  });
});
