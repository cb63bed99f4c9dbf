import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { prepareTextFrame, preparedFramesSupported, sendPrepared, sendPreparedBatch } from '../src/connections/prepared-frame.ts';

/**
 * Prepared frames write through ws internals (see prepared-frame.ts): the installed ws must take
 * the fast path, and a client must read exactly what `send` would have delivered.
 */
describe('prepared frames over a real socket', () => {
  let server: WebSocketServer;
  let serverSide: WebSocket;
  let client: WebSocket;
  const received: string[] = [];

  before(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    client.on('message', (data, isBinary) => {
      assert.equal(isBinary, false);
      received.push(String(data));
    });
    [serverSide] = (await accepted) as [WebSocket];
  });
  after(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  async function arrived(count: number): Promise<string[]> {
    while (received.length < count) await once(client, 'message');
    return received.splice(0, count);
  }

  it('takes the fast path with the installed ws', () => {
    assert.equal(preparedFramesSupported(serverSide), true);
  });

  it('delivers every payload length class (7-bit, 16-bit, 64-bit) as sent, alone and batched', async () => {
    const texts = ['short ✓', 'm'.repeat(300), '满'.repeat(30_000)];
    for (const text of texts) sendPrepared(serverSide, prepareTextFrame(Buffer.from(text)));
    assert.deepEqual(await arrived(3), texts);
    sendPreparedBatch(serverSide, texts.map((text) => prepareTextFrame(Buffer.from(text))));
    assert.deepEqual(await arrived(3), texts);
  });

  it('one prepared frame serves many sockets', async () => {
    const frame = prepareTextFrame(Buffer.from('{"id":1}'));
    sendPrepared(serverSide, frame);
    sendPrepared(serverSide, frame);
    assert.deepEqual(await arrived(2), ['{"id":1}', '{"id":1}']);
  });
});
