import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import { ApiError, ImClient, memoryTokenStore, webStorageTokenStore, type Session, type UploadProgress } from '../src/index.ts';

/**
 * What the SDK puts on the wire for each HTTP call and how it reads the envelope, against a real
 * HTTP server on loopback that records requests and answers as the contract says. Part 1 calls
 * also run against the real API in test/cluster/sdk.test.ts; Part 2 calls are checked here until
 * the API has them.
 */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

describe('ImClient over HTTP', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let answer: (req: Seen) => { status: number; body: unknown } = () => ({ status: 200, body: { code: 0, data: {}, msg: '成功' } });

  before(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(request);
      const { status, body } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    seen.length = 0;
    answer = () => ({ status: 200, body: { code: 0, data: {}, msg: '成功' } });
  });

  const session = (token = 'jwt-1', expiresInMs = 3_600_000): Session => ({
    token,
    token_type: 'bearer',
    expires_at: new Date(Date.now() + expiresInMs).toISOString(),
    user: { user_id: 'aaaaaaaaaa', user_name: 'alice', avatar: 'uploads/avatar/aaaaaaaaaa.png', email: 'a@example.com', created_at: '', updated_at: '' },
  });

  it('logs in in two steps and keeps the token in the store', async () => {
    const store = memoryTokenStore();
    const im = new ImClient({ baseUrl: base, tokenStore: store });
    answer = () => ({ status: 200, body: { code: 0, data: {}, msg: '验证码已发送' } });
    assert.deepEqual(await im.login({ email: 'a@example.com', password: 'long password' }), { status: 'code-sent', message: '验证码已发送' });
    assert.equal(im.session, null);
    answer = () => ({ status: 200, body: { code: 0, data: session('jwt-2'), msg: '登录成功' } });
    const result = await im.login({ email: 'a@example.com', password: 'long password', code: '123456' });
    assert.equal(result.status, 'signed-in');
    assert.equal(store.load()?.token, 'jwt-2');
    assert.equal(im.user?.user_name, 'alice');
    assert.deepEqual(JSON.parse(seen[1]!.body.toString()), { email: 'a@example.com', password: 'long password', code: '123456' });
    assert.equal(seen[0]!.headers.authorization, undefined, 'no token on login');

    await im.accounts.list({ limit: 5, sort: 'created_at desc' });
    assert.equal(seen[2]!.url, '/api/users?limit=5&sort=created_at+desc');
    assert.equal(seen[2]!.headers.authorization, 'bearer jwt-2');
  });

  it('turns an error envelope into an ApiError with code, status and details', async () => {
    const im = new ImClient({ baseUrl: base });
    answer = () => ({ status: 409, body: { code: 1006, data: { field: 'email' }, msg: '邮箱已被注册' } });
    const err = await im.register({ email: 'a@example.com', username: 'a', password: 'long password' }).catch((e) => e);
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.code, err.status, err.message, err.data.field], [1006, 409, '邮箱已被注册', 'email']);

    answer = () => ({ status: 429, body: { code: 1007, data: { retry_after_seconds: 12 }, msg: '请求过于频繁' } });
    assert.equal((await im.register({ email: 'b@example.com', username: 'b', password: 'long password' }).catch((e) => e)).retryAfterSeconds, 12);

    answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    const notEnvelope = await im.accounts.list().catch((e) => e);
    assert.equal(notEnvelope.code, 7);
  });

  it('ends the session when a call with the token is refused (1003), not when a login code is wrong', async () => {
    const store = memoryTokenStore(session());
    const im = new ImClient({ baseUrl: base, tokenStore: store });
    const events: unknown[] = [];
    im.on('session', (s, info) => events.push([s, info.expired]));
    answer = () => ({ status: 401, body: { code: 1003, data: {}, msg: '验证码错误或已过期' } });
    await assert.rejects(im.login({ email: 'a@example.com', password: 'long password', code: '000000' }));
    assert.equal(im.token, 'jwt-1', 'a wrong code does not sign the user out');
    await assert.rejects(im.accounts.list());
    assert.equal(im.session, null);
    assert.equal(store.load(), null);
    assert.deepEqual(events, [[null, true]]);
  });

  it('forgets an expired session, and logs out even when the server already forgot the token', async () => {
    assert.equal(new ImClient({ baseUrl: base, tokenStore: memoryTokenStore(session('old', -1000)) }).session, null);
    const im = new ImClient({ baseUrl: base, tokenStore: memoryTokenStore(session()) });
    answer = () => ({ status: 401, body: { code: 1003, data: {}, msg: '未登录' } });
    await im.logout();
    assert.equal(im.session, null);
    assert.equal(seen[0]!.url, '/api/users/logout');
  });

  it('keeps a session in Web Storage across instances', () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), removeItem: (k: string) => void data.delete(k) };
    webStorageTokenStore(storage).save(session('kept'));
    assert.equal(new ImClient({ baseUrl: base, tokenStore: webStorageTokenStore(storage) }).token, 'kept');
    data.set('im.session', '{not json');
    assert.equal(webStorageTokenStore(storage).load(), null);
  });

  it('builds history queries with cursors', async () => {
    const im = new ImClient({ baseUrl: base, tokenStore: memoryTokenStore(session()) });
    answer = () => ({ status: 200, body: { code: 0, data: { count: 0, list: [] }, msg: '成功' } });
    await im.history.group({ limit: 30, beforeId: 120 });
    await im.history.private({ targetId: 'bbbbbbbbbb', afterId: 0, limit: 100 });
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/api/chat_groupList?limit=30&before_id=120', '/api/chat_privateList?limit=100&after_id=0&target_id=bbbbbbbbbb'],
    );
  });

  it('uploads a file as multipart with progress up to the whole body, and downloads with the token', async () => {
    const im = new ImClient({ baseUrl: base, tokenStore: memoryTokenStore(session()) });
    const uploaded = { file_name: '1-abc.png', original_name: 'cat.png', path: 'api/files/download?file=1-abc.png' };
    answer = () => ({ status: 200, body: { code: 0, data: uploaded, msg: '上传成功' } });
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const progress: UploadProgress[] = [];
    const result = await im.files.upload(new Blob([bytes], { type: 'image/png' }), {
      targetId: 'bbbbbbbbbb',
      fileName: 'cat.png',
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(result, uploaded);
    const request = seen[0]!;
    assert.equal(request.url, '/api/files/upload?target_id=bbbbbbbbbb');
    assert.equal(request.headers.authorization, 'bearer jwt-1');
    assert.match(String(request.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.ok(request.body.includes(Buffer.from('filename="cat.png"')));
    assert.ok(request.body.includes(Buffer.from(bytes)), 'the bytes travel unchanged');
    assert.ok(progress.length > 1, 'progress is reported more than once');
    assert.equal(progress.at(-1)!.loaded, request.body.length);
    assert.equal(progress.at(-1)!.total, request.body.length);

    answer = () => ({ status: 404, body: { code: 1005, data: {}, msg: '文件不存在' } });
    const missing = await im.files.download('nope.png').catch((e) => e);
    assert.equal(missing.code, 1005);
    assert.equal(seen[1]!.url, '/api/files/download?file=nope.png');
  });

  it('Part 2: rooms, the inbox and read cursors on the paths of the contract, ids URL-encoded', async () => {
    const im = new ImClient({ baseUrl: base, tokenStore: memoryTokenStore(session()) });
    answer = (req) => ({ status: 200, body: { code: 0, data: req.url === '/api/rooms' && req.method === 'GET' ? { count: 1, list: [{ room_id: 'r1' }] } : {}, msg: '成功' } });
    await im.rooms.create({ name: '周末', memberIds: ['bbbbbbbbbb'] });
    assert.deepEqual(await im.rooms.list(), { count: 1, list: [{ room_id: 'r1' }] });
    await im.rooms.get('r1');
    await im.rooms.addMembers('r1', ['cccccccccc']);
    await im.rooms.removeMember('r1', 'cccccccccc');
    await im.rooms.setRole('r1', 'bbbbbbbbbb', 'admin');
    await im.rooms.rename('r1', 'weekend');
    await im.conversations.list({ limit: 20, before: 'cursor/1' });
    await im.conversations.messages('p:aaaaaaaaaa:bbbbbbbbbb', { beforeId: 50, limit: 30 });
    await im.conversations.markRead('r:r1', 42);
    await im.conversations.readPositions('p:aaaaaaaaaa:bbbbbbbbbb');
    await im.files.upload(new Blob(['hi']), { conversation: 'r:r1', fileName: 'hi.txt' });
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}${s.body.length && !String(s.headers['content-type']).startsWith('multipart') ? ` ${s.body}` : ''}`),
      [
        'POST /api/rooms {"name":"周末","member_ids":["bbbbbbbbbb"]}',
        'GET /api/rooms',
        'GET /api/rooms/r1',
        'POST /api/rooms/r1/members {"user_ids":["cccccccccc"]}',
        'DELETE /api/rooms/r1/members/cccccccccc',
        'PATCH /api/rooms/r1/members/bbbbbbbbbb {"role":"admin"}',
        'PATCH /api/rooms/r1 {"name":"weekend"}',
        'GET /api/conversations?limit=20&before=cursor%2F1',
        'GET /api/conversations/p%3Aaaaaaaaaaa%3Abbbbbbbbbb/messages?before_id=50&limit=30',
        'POST /api/conversations/r%3Ar1/read {"last_read_id":42}',
        'GET /api/conversations/p%3Aaaaaaaaaaa%3Abbbbbbbbbb/read',
        'POST /api/files/upload?conversation=r%3Ar1',
      ],
    );
  });
});
