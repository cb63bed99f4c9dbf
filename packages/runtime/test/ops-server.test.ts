import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createOpsServer, listenOps } from '../src/ops-server.ts';

describe('ops server: /healthz, /readyz, /metrics of a process without an HTTP API', () => {
  let server: Server;
  let base: string;
  const state = { redis: 'ok' as 'ok' | 'fails' | 'hangs' };

  before(async () => {
    server = createOpsServer({
      checks: {
        redis: async () => {
          if (state.redis === 'fails') throw new Error('ECONNREFUSED');
          if (state.redis === 'hangs') await new Promise(() => {});
        },
        worker: async () => {},
      },
      metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'im_test_total 3\n' },
      checkTimeoutMs: 200,
    });
    await listenOps(server, 0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string, method = 'GET') => {
    const response = await fetch(base + path, { method });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  it('answers /healthz and /metrics', async () => {
    assert.deepEqual(JSON.parse((await get('/healthz')).text), { code: 0, data: { status: 'alive' }, msg: '成功' });
    const metrics = await get('/metrics?x=1');
    assert.equal(metrics.status, 200);
    assert.match(metrics.type ?? '', /^text\/plain/);
    assert.equal(metrics.text, 'im_test_total 3\n');
  });

  it('/readyz names every check, and answers 503 / 1500 when one fails or passes its deadline', async () => {
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text).data, { redis: 'ok', worker: 'ok' });
    for (const failure of ['fails', 'hangs'] as const) {
      state.redis = failure;
      const down = await get('/readyz');
      assert.equal(down.status, 503, failure);
      assert.deepEqual(JSON.parse(down.text), { code: 1500, data: { redis: 'down', worker: 'ok' }, msg: '服务暂不可用' });
    }
    state.redis = 'ok';
  });

  it('anything else is 404 / 1005 in the envelope', async () => {
    for (const [path, method] of [['/', 'GET'], ['/metrics/extra', 'GET'], ['/metrics', 'POST']] as const) {
      const answer = await get(path, method);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(JSON.parse(answer.text).code, 1005);
    }
  });

  it('refuses to listen on a port that is taken', async () => {
    const other = createOpsServer({ checks: {}, metrics: { contentType: 'text/plain', metrics: async () => '' } });
    await assert.rejects(listenOps(other, Number(new URL(base).port), '127.0.0.1'), /EADDRINUSE/);
  });
});
