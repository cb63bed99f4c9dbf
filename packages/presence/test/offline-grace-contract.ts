import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OfflineGrace } from '../src/offline-grace.ts';

/** One backend that several gateways share, as the processes of a cluster share one Redis. */
export interface OfflineGraceBackend {
  /** A gateway's OfflineGrace on this backend. */
  gateway(graceMs: number): Promise<OfflineGrace>;
  close(): Promise<void>;
}

/** Long enough that nothing falls due while a test runs, on a loaded machine too. */
const LONG_MS = 60_000;
const SHORT_MS = 50;
const pastShort = () => new Promise((resolve) => setTimeout(resolve, SHORT_MS * 4));

/** What every OfflineGrace implementation must do; registered as node:test tests under `name`. */
export function offlineGraceContract(name: string, factory: () => Promise<OfflineGraceBackend>): void {
  describe(`OfflineGrace contract: ${name}`, () => {
    let backend: OfflineGraceBackend;
    let user = '';
    beforeEach(async () => {
      backend = await factory();
      user = `user-${randomUUID()}`;
    });
    afterEach(() => backend.close());

    it('hands a user who stayed away past the grace to exactly one gateway, once', async () => {
      const [a, b] = [await backend.gateway(SHORT_MS), await backend.gateway(SHORT_MS)];
      await a.wentOffline(user);
      await pastShort();
      const [fromA, fromB] = await Promise.all([a.takeDue(10), b.takeDue(10)]);
      assert.deepEqual([...fromA, ...fromB], [user]);
      assert.deepEqual(await a.takeDue(10), []);
    });

    it('keeps a user whose grace has not run out', async () => {
      const a = await backend.gateway(LONG_MS);
      await a.wentOffline(user);
      assert.deepEqual(await a.takeDue(10), []);
    });

    it('a user back within the grace is told to nobody, on any gateway', async () => {
      const [a, b] = [await backend.gateway(SHORT_MS), await backend.gateway(SHORT_MS)];
      await a.wentOffline(user);
      assert.deepEqual(await b.cameOnline(user), { tellPeers: false });
      await pastShort();
      assert.deepEqual(await a.takeDue(10), []);
    });

    it('tells peers of a user who was never away, or whose offline notice was taken', async () => {
      const a = await backend.gateway(SHORT_MS);
      assert.deepEqual(await a.cameOnline(user), { tellPeers: true });
      await a.wentOffline(user);
      await pastShort();
      assert.deepEqual(await a.takeDue(10), [user]);
      assert.deepEqual(await a.cameOnline(user), { tellPeers: true });
    });

    it('hands out at most `max` at a time and the rest on the next call', async () => {
      const a = await backend.gateway(SHORT_MS);
      const users = [`${user}-1`, `${user}-2`, `${user}-3`];
      for (const u of users) await a.wentOffline(u);
      await pastShort();
      const first = await a.takeDue(2);
      const second = await a.takeDue(2);
      assert.deepEqual([first.length, second.length], [2, 1]);
      assert.deepEqual([...first, ...second].sort(), users);
    });

    it('refuses bad arguments', async () => {
      const a = await backend.gateway(SHORT_MS);
      await assert.rejects(a.wentOffline(''), TypeError);
      await assert.rejects(a.cameOnline(42 as unknown as string), TypeError);
      await assert.rejects(a.takeDue(0), RangeError);
      await assert.rejects(backend.gateway(0), RangeError);
    });
  });
}
