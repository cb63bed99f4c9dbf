import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RevocationLedger } from '@im/db';

/** What every RevocationLedger must do; called from revocation-ledger.test.ts for each implementation. */
export function revocationLedgerContract(name: string, make: () => Promise<RevocationLedger>): void {
  describe(`revocation ledger contract: ${name}`, () => {
    const inAnHour = () => new Date(Date.now() + 3_600_000);
    const aMomentAgo = () => new Date(Date.now() - 1_000);

    it('has a recorded jti until its token expires, and not an unknown one', async () => {
      const ledger = await make();
      const jti = randomUUID();
      assert.equal(await ledger.has(jti), false);
      await ledger.record({ jti, expiresAt: inAnHour() });
      assert.equal(await ledger.has(jti), true);
      const expired = randomUUID();
      await ledger.record({ jti: expired, expiresAt: aMomentAgo() });
      assert.equal(await ledger.has(expired), false);
    });

    it('recording the same jti twice is harmless', async () => {
      const ledger = await make();
      const jti = randomUUID();
      await ledger.record({ jti, expiresAt: inAnHour() });
      await ledger.record({ jti, expiresAt: inAnHour() });
      assert.equal(await ledger.has(jti), true);
    });

    it('pages through the unexpired revocations in jti order, without the expired ones', async () => {
      const ledger = await make();
      const live = Array.from({ length: 7 }, () => randomUUID());
      for (const jti of live) await ledger.record({ jti, expiresAt: inAnHour() });
      await ledger.record({ jti: randomUUID(), expiresAt: aMomentAgo() });
      const seen: string[] = [];
      for (let after = ''; ; ) {
        const page = await ledger.unexpired(after, 3);
        seen.push(...page.map((r) => r.jti));
        for (const row of page) assert.ok(row.expiresAt.getTime() > Date.now());
        if (page.length < 3) break;
        after = page.at(-1)!.jti;
      }
      const mine = seen.filter((jti) => (live as string[]).includes(jti));
      assert.deepEqual(mine, [...live].sort());
      assert.deepEqual(seen, [...seen].sort(), 'in jti order');
    });

    it('sweeps expired revocations and keeps live ones', async () => {
      const ledger = await make();
      const live = randomUUID();
      await ledger.record({ jti: live, expiresAt: inAnHour() });
      await ledger.record({ jti: randomUUID(), expiresAt: aMomentAgo() });
      await ledger.record({ jti: randomUUID(), expiresAt: aMomentAgo() });
      assert.ok((await ledger.sweepExpired()) >= 2);
      assert.equal(await ledger.sweepExpired(), 0);
      assert.equal(await ledger.has(live), true);
    });
  });
}
