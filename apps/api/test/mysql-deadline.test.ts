import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startApi, type TestApi } from './support/start-api.ts';
import { call } from './support/http.ts';
import { registerAndLogin } from './support/accounts.ts';

describe('rooms and the inbox when MySQL does not answer', () => {
  let api: TestApi;
  let silent: Server;
  const sockets = new Set<Socket>();
  let token: string;

  before(async () => {
    // Accepts connections and never says a word: a frozen MySQL, for the rooms/inbox pool only.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    api = await startApi({ sqlUrl: `mysql://root@127.0.0.1:${port}/frozen`, overrides: { mysql: { deadline_ms: 300 } } });
    ({ token } = await registerAndLogin(api, 'frozen'));
  });
  after(async () => {
    await api.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('answers 503 / 1500 once the deadline passes, for reads and writes alike', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/rooms', undefined],
      ['POST', '/api/rooms', { name: 'never made' }],
      ['GET', '/api/conversations', undefined],
      ['POST', '/api/conversations/group/read', { last_read_id: 1 }],
      ['GET', '/api/conversations/r%3A0123456789ab/messages', undefined],
    ] as const) {
      const answer = await call(api.url, path, { method, token, body });
      assert.deepEqual([answer.status, answer.code], [503, 1500], `${method} ${path}`);
    }
    // Part 1 does not use that pool and keeps working.
    assert.equal((await call(api.url, '/api/chat_groupList', { token })).code, 0);
  });
});
