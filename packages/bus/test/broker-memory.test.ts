import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryBroker, createMemoryHub } from '../src/broker-memory.ts';
import { brokerContract } from './broker-contract.ts';

brokerContract('memory', async ({ onError }) => {
  const hub = createMemoryHub();
  const a = createMemoryBroker({ hub, onError });
  const b = createMemoryBroker({ hub, onError });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
    },
  };
});

describe('createMemoryBroker', () => {
  it('keeps brokers on different hubs apart', async () => {
    const a = createMemoryBroker();
    const b = createMemoryBroker();
    let received = 0;
    await b.subscribe('room', () => received++);
    let own = 0;
    await a.subscribe('room', () => own++);

    await a.publish('room', 'x');
    await new Promise((resolve) => setImmediate(resolve));

    assert.equal(own, 1);
    assert.equal(received, 0);
    await a.close();
    await b.close();
  });

  it('refuses a hub it did not make', () => {
    assert.throws(() => createMemoryBroker({ hub: { kind: 'memory-hub' } }), /hub must come from createMemoryHub/);
  });

  it('rejects use after close', async () => {
    const broker = createMemoryBroker();
    await broker.close();
    assert.equal(broker.isHealthy(), false);
    await assert.rejects(broker.publish('room', 'x'), /broker is closed/);
  });
});
