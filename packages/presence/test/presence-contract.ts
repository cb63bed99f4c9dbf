import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Presence, UserPresenceChange } from '../src/presence.ts';
import { byRoomAndUser, EventLog } from './event-log.ts';

/** One backend that several gateways share, as the processes of a cluster share one Redis. */
export interface PresenceBackend {
  /** A new gateway on this backend, not started yet. */
  gateway(): Promise<Presence>;
  /** Releases what the factory opened (clients, keys). Gateways are stopped by the contract. */
  close(): Promise<void>;
}

/** What every Presence implementation must do; registered as node:test tests under `name`. */
export function presenceContract(name: string, factory: () => Promise<PresenceBackend>): void {
  describe(`Presence contract: ${name}`, () => {
    let backend: PresenceBackend;
    let opened: Presence[] = [];
    let room = '';

    const started = async (): Promise<Presence> => {
      const presence = await backend.gateway();
      opened.push(presence);
      await presence.start();
      return presence;
    };

    beforeEach(async () => {
      backend = await factory();
      opened = [];
      room = `room-${randomUUID()}`;
    });
    afterEach(async () => {
      for (const presence of opened) await presence.stop();
      await backend.close();
    });

    it('reports first and last connection across gateways', async () => {
      const [a, b] = [await started(), await started()];

      assert.deepEqual(await a.connect(room, 'ann'), { firstConnection: true, onlineCount: 1 });
      assert.deepEqual(await b.connect(room, 'ann'), { firstConnection: false, onlineCount: 1 });
      assert.deepEqual(await b.connect(room, 'bob'), { firstConnection: true, onlineCount: 2 });

      assert.deepEqual(await a.disconnect(room, 'ann'), { lastConnection: false, onlineCount: 2 });
      assert.equal(await b.isOnline(room, 'ann'), true);
      assert.deepEqual(await b.disconnect(room, 'ann'), { lastConnection: true, onlineCount: 1 });
      assert.equal(await a.isOnline(room, 'ann'), false);
      assert.equal(await a.onlineCount(room), 1);
    });

    it('counts several connections of one user on one gateway', async () => {
      const a = await started();

      const firsts = [];
      for (let i = 0; i < 3; i++) firsts.push((await a.connect(room, 'ann')).firstConnection);
      const lasts = [];
      for (let i = 0; i < 3; i++) lasts.push((await a.disconnect(room, 'ann')).lastConnection);

      assert.deepEqual(firsts, [true, false, false]);
      assert.deepEqual(lasts, [false, false, true]);
      assert.equal(await a.onlineCount(room), 0);
    });

    it('counts distinct users, not connections', async () => {
      const [a, b] = [await started(), await started()];
      for (const user of ['u1', 'u2', 'u3', 'u4', 'u5']) {
        await a.connect(room, user);
        await b.connect(room, user);
        await a.connect(room, user);
      }

      assert.equal(await a.onlineCount(room), 5);
      assert.equal(await b.onlineCount(room), 5);
    });

    it('keeps rooms independent', async () => {
      const a = await started();
      const other = `${room}-other`;
      await a.connect(room, 'ann');
      await a.connect(other, 'ann');
      await a.connect(other, 'bob');

      assert.deepEqual(await a.disconnect(room, 'ann'), { lastConnection: true, onlineCount: 0 });
      assert.equal(await a.isOnline(other, 'ann'), true);
      assert.equal(await a.onlineCount(other), 2);
      assert.equal(await a.onlineCount(`${room}-never-used`), 0);
    });

    it('ignores disconnecting a connection the gateway does not hold', async () => {
      const [a, b] = [await started(), await started()];
      await a.connect(room, 'ann');

      assert.deepEqual(await b.disconnect(room, 'ann'), { lastConnection: false, onlineCount: 1 });
      assert.deepEqual(await a.disconnect(room, 'nobody'), { lastConnection: false, onlineCount: 1 });
      assert.equal(await a.isOnline(room, 'ann'), true);
    });

    it('removes only its own entries on stop() and returns who left', async () => {
      const [a, b] = [await started(), await started()];
      const other = `${room}-other`;
      await a.connect(room, 'only-a');
      await a.connect(room, 'only-a');
      await a.connect(room, 'both');
      await b.connect(room, 'both');
      await b.connect(room, 'only-b');
      await a.connect(other, 'both');

      const left = await a.stop();

      assert.deepEqual(byRoomAndUser(left), [
        { room, userId: 'only-a', onlineCount: 2 },
        { room: other, userId: 'both', onlineCount: 0 },
      ].sort((x, y) => x.room.localeCompare(y.room)));
      assert.equal(await b.onlineCount(room), 2);
      assert.equal(await b.isOnline(room, 'only-a'), false);
      assert.equal(await b.isOnline(other, 'both'), false);
      assert.deepEqual(await a.stop(), []);
      await assert.rejects(a.connect(room, 'late'), /needs a started presence/);
      assert.deepEqual(await a.disconnect(room, 'both'), { lastConnection: false, onlineCount: 2 });
    });

    it('refuses to connect before start()', async () => {
      const a = await backend.gateway();
      opened.push(a);
      await assert.rejects(a.connect(room, 'ann'), /needs a started presence/);
      await a.start();
      await assert.rejects(a.start(), /only be called once/);
    });

    it('rejects bad rooms and user ids with a clear error', async () => {
      const a = await started();
      await assert.rejects(a.connect('', 'ann'), /room must be a non-empty string/);
      await assert.rejects(a.connect('a{b}', 'ann'), /without \{ or \}/);
      await assert.rejects(a.connect(room, ''), /userId must be a non-empty string/);
      await assert.rejects(a.onlineCount(42 as unknown as string), /room must be/);
    });

    it('stays exact under 200 concurrent connect/disconnect pairs from two gateways', async () => {
      const gateways = [await started(), await started()];
      const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6'];

      const pairs = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const gateway = gateways[i % 2] as Presence;
          const userId = users[i % users.length] as string;
          const { firstConnection } = await gateway.connect(room, userId);
          const { lastConnection } = await gateway.disconnect(room, userId);
          return { userId, firstConnection, lastConnection };
        }),
      );

      assert.equal(await gateways[0]!.onlineCount(room), 0);
      for (const userId of users) {
        const mine = pairs.filter((pair) => pair.userId === userId);
        const firsts = mine.filter((pair) => pair.firstConnection).length;
        const lasts = mine.filter((pair) => pair.lastConnection).length;
        // Every online period opens with exactly one "first" and closes with exactly one "last".
        assert.ok(firsts >= 1, `${userId} never had a first connection`);
        assert.equal(firsts, lasts, `${userId}: ${firsts} first vs ${lasts} last connections`);
        assert.equal(await gateways[1]!.isOnline(room, userId), false);
      }
    });

    it('tracks users online anywhere, apart from every room', async () => {
      const [a, b] = [await started(), await started()];

      assert.deepEqual(await a.connectUser('ann'), { firstConnection: true });
      assert.deepEqual(await b.connectUser('ann'), { firstConnection: false });
      assert.deepEqual(await b.connectUser('bob'), { firstConnection: true });
      await a.connect(room, 'cat');

      assert.deepEqual([...(await a.onlineUsers(['ann', 'bob', 'cat', 'dan', 'ann']))].sort(), ['ann', 'bob']);
      assert.deepEqual([...(await b.onlineUsers([]))], []);
      // A room knows nothing of user-level connections, and the other way round.
      assert.equal(await a.onlineCount(room), 1);
      assert.equal(await b.isOnline(room, 'ann'), false);

      assert.deepEqual(await a.disconnectUser('ann'), { lastConnection: false });
      assert.deepEqual(await a.disconnectUser('ann'), { lastConnection: false }); // a does not hold it any more
      assert.deepEqual([...(await a.onlineUsers(['ann']))], ['ann']);
      assert.deepEqual(await b.disconnectUser('ann'), { lastConnection: true });
      assert.deepEqual([...(await a.onlineUsers(['ann', 'bob']))], ['bob']);
      assert.equal(await a.onlineCount(room), 1);
    });

    it('reports the users whose last device was on a stopping gateway to user listeners only', async () => {
      const [a, b] = [await started(), await started()];
      const users = new EventLog<UserPresenceChange>();
      a.onUserPresence(users.push);
      const reaped = new EventLog<unknown>();
      a.onReaped(reaped.push);
      await a.connectUser('only-a');
      await a.connectUser('only-a');
      await a.connectUser('both');
      await b.connectUser('both');
      await a.connect(room, 'in-room');

      const left = await a.stop();

      assert.deepEqual(left, [{ room, userId: 'in-room', onlineCount: 0 }]);
      assert.deepEqual(users.events, [{ userId: 'only-a', online: false }]);
      assert.deepEqual(reaped.events, []);
      assert.deepEqual([...(await b.onlineUsers(['only-a', 'both']))], ['both']);
      await assert.rejects(a.connectUser('late'), /needs a started presence/);
    });

    it('stays exact under 100 concurrent user connect/disconnect pairs from two gateways', async () => {
      const gateways = [await started(), await started()];
      const pairs = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const gateway = gateways[i % 2] as Presence;
          const userId = `u${i % 5}`;
          const { firstConnection } = await gateway.connectUser(userId);
          const { lastConnection } = await gateway.disconnectUser(userId);
          return { userId, firstConnection, lastConnection };
        }),
      );
      for (const userId of ['u0', 'u1', 'u2', 'u3', 'u4']) {
        const mine = pairs.filter((pair) => pair.userId === userId);
        const firsts = mine.filter((pair) => pair.firstConnection).length;
        assert.ok(firsts >= 1, `${userId} never had a first connection`);
        assert.equal(firsts, mine.filter((pair) => pair.lastConnection).length, `${userId}: firsts and lasts differ`);
      }
      assert.deepEqual([...(await gateways[0]!.onlineUsers(['u0', 'u1', 'u2', 'u3', 'u4']))], []);
    });

    it('keeps reserved rooms and bad ids out', async () => {
      const a = await started();
      await assert.rejects(a.connect('~users:1', 'ann'), /reserved/);
      await assert.rejects(a.onlineCount('~users:1'), /reserved/);
      await assert.rejects(a.connectUser(''), /userId must be a non-empty string/);
      await assert.rejects(a.onlineUsers('ann' as never), /userIds must be an array/);
      await assert.rejects(a.onlineUsers(['ann', 7 as never]), /userId must be a non-empty string/);
      assert.throws(() => a.onUserPresence('nope' as never), /listener must be a function/);
    });

    it('returns unregister functions from its listeners', async () => {
      const a = await started();
      const unregisterReaped = a.onReaped(() => {});
      const unregisterResynced = a.onResynced(() => {});
      assert.equal(typeof unregisterReaped, 'function');
      unregisterReaped();
      unregisterResynced();
      assert.throws(() => a.onReaped('nope' as never), /listener must be a function/);
    });
  });
}
