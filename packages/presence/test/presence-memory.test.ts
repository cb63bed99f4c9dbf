import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryPresence, createMemoryPresenceHub } from '../src/presence-memory.ts';
import { presenceContract } from './presence-contract.ts';

presenceContract('memory', async () => {
  const hub = createMemoryPresenceHub();
  return {
    async gateway() {
      return createMemoryPresence({ hub });
    },
    async close() {},
  };
});

describe('createMemoryPresence', () => {
  it('keeps presences on different hubs apart', async () => {
    const a = createMemoryPresence();
    const b = createMemoryPresence();
    await a.start();
    await b.start();
    await a.connect('group', 'ann');

    assert.equal(await b.isOnline('group', 'ann'), false);
    await a.stop();
    await b.stop();
  });

  it('refuses a hub it did not make', () => {
    assert.throws(
      () => createMemoryPresence({ hub: { kind: 'memory-presence-hub' } }),
      /hub must come from createMemoryPresenceHub/,
    );
  });
});
