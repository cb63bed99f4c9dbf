import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMessageWriter, type MessageWriter } from '@im/db';
import { GROUP_CONVERSATION, MsgType, privateConversation } from '@im/protocol';
import { startApi, type TestApi } from './support/start-api.ts';
import { newAccount, registerAndLogin } from './support/accounts.ts';
import { appRoutes, openApiChecker, type Route } from './support/openapi-check.ts';
import { pngBytes } from './files-support.ts';

/**
 * The OpenAPI document the API serves, against the API itself (real MariaDB and Redis): every
 * route of the app is in it, and every answer below (successes and failures) matches what it
 * says for that route and status. A route whose answer drifts (a field added, renamed or of
 * another type, a status not documented) fails here.
 */
describe('OpenAPI document at /api/openapi.json', () => {
  let api: TestApi;
  let checker: ReturnType<typeof openApiChecker>;
  let writer: MessageWriter;
  /** `METHOD path` of every route that gave a documented 2xx answer here. */
  const succeeded = new Set<string>();

  before(async () => {
    api = await startApi({ overrides: { rate_limit: { register_per_ip: 12 } } });
    writer = createMessageWriter({ url: api.config.mysql.url, connectionLimit: 2 });
    const response = await fetch(`${api.url}/api/openapi.json`);
    assert.equal(response.status, 200);
    checker = openApiChecker(await response.json());
  });
  after(async () => {
    await writer?.close();
    await api?.close();
  });

  /** Sends the request and asserts the document describes the answer; returns it. */
  async function documented(route: Route, path: string, init: RequestInit & { token?: string } = {}) {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `bearer ${init.token}`);
    if (typeof init.body === 'string') headers.set('content-type', headers.get('content-type') ?? 'application/json');
    const response = await fetch(api.url + path, { ...init, method: route.method, headers });
    const text = await response.text();
    const problems = checker.problems(route, response.status, response.headers.get('content-type'), text);
    assert.deepEqual(problems, [], `${route.method} ${path}`);
    if (response.status < 300) succeeded.add(`${route.method} ${route.path}`);
    const json = (response.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(text) : undefined;
    return { status: response.status, headers: response.headers, text, json };
  }

  const get = (path: string): Route => ({ method: 'GET', path });
  const post = (path: string): Route => ({ method: 'POST', path });
  const json = (body: unknown) => JSON.stringify(body);
  const fileForm = (name: string, bytes: Buffer | string, type = 'application/octet-stream') => {
    const form = new FormData();
    form.append('file', new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)], { type }), name);
    return form;
  };

  it('is OpenAPI 3.1 and lists every route of the app, and no route the app does not have', () => {
    const doc = checker.doc as unknown as { openapi: string; paths: Record<string, Record<string, { 'x-served-by'?: string }>> };
    assert.equal(doc.openapi, '3.1.0');
    const served = appRoutes(api.app).map((r) => `${r.method} ${r.path}`);
    const listed = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        // The chat sockets are the gateways' (listed so that one document has every path).
        .filter(([, operation]) => operation['x-served-by'] !== 'gateway')
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    assert.ok(served.length >= 15, `the app's routers were read (${served.length} routes)`);
    assert.deepEqual(served.filter((route) => !listed.includes(route)), [], 'routes missing from the document');
    assert.deepEqual(listed.filter((route) => !served.includes(route)), [], 'documented routes the app does not serve');
  });

  it('describes the answers of the account routes', async () => {
    const account = newAccount('doc');
    await documented(post('/api/users/register'), '/api/users/register', { body: json(account) });
    assert.equal((await documented(post('/api/users/register'), '/api/users/register', { body: json(account) })).status, 409);
    assert.equal((await documented(post('/api/users/register'), '/api/users/register', { body: json({ email: 'x' }) })).status, 400);
    assert.equal((await documented(post('/api/users/register'), '/api/users/register', { body: '{"email":' })).status, 400);
    const huge = json({ ...newAccount('huge'), padding: 'x'.repeat(70 * 1024) });
    assert.equal((await documented(post('/api/users/register'), '/api/users/register', { body: huge })).status, 413);

    const login = post('/api/users/login');
    const credentials = { email: account.email, password: account.password };
    assert.deepEqual((await documented(login, '/api/users/login', { body: json(credentials) })).json.data, {});
    const code = /\b(\d{6})\b/.exec(api.mails.at(-1)!.text)![1]!;
    assert.equal((await documented(login, '/api/users/login', { body: json({ ...credentials, code: '000000' }) })).status, 401);
    assert.equal((await documented(login, '/api/users/login', { body: json({ ...credentials, password: 'wrong password' }) })).status, 401);
    assert.equal((await documented(login, '/api/users/login', { body: json({ ...credentials, code: 'abc' }) })).status, 400);
    const signedIn = await documented(login, '/api/users/login', { body: json({ ...credentials, code }) });
    const token = signedIn.json.data.token as string;

    await documented(get('/api/users'), '/api/users?limit=2&sort=created_at%20desc', { token });
    assert.equal((await documented(get('/api/users'), '/api/users?sort=password', { token })).status, 400);
    assert.equal((await documented(get('/api/users'), '/api/users')).status, 401);

    const avatar = post('/api/users/avatar');
    await documented(avatar, '/api/users/avatar', { token, body: fileForm('me.png', pngBytes(32, 32), 'image/png') });
    assert.equal((await documented(avatar, '/api/users/avatar', { token, body: fileForm('me.png', 'not an image') })).status, 415);
    const me = (await documented(get('/api/users'), '/api/users?limit=100', { token })).json.data.list.find((u: { email: string }) => u.email === account.email);
    await documented(get('/uploads/avatar/{name}'), `/${me.avatar}`);
    assert.equal((await documented(get('/uploads/avatar/{name}'), '/uploads/avatar/..%2Fsecret.png')).status, 404);

    const settings = { method: 'PUT', path: '/api/users/notifications' } as const;
    assert.deepEqual((await documented(get('/api/users/notifications'), '/api/users/notifications', { token })).json.data.digest, false);
    const changed = await documented(settings, '/api/users/notifications', { token, body: json({ digest: true, language: 'en' }) });
    assert.equal(changed.json.data.digest, true);
    assert.equal((await documented(settings, '/api/users/notifications', { token, body: json({ language: 'fr' }) })).status, 400);
    assert.equal((await documented(settings, '/api/users/notifications', { body: json({ digest: true }) })).status, 401);
    assert.equal((await documented(get('/api/users/notifications'), '/api/users/notifications')).status, 401);

    await documented(post('/api/users/logout'), '/api/users/logout', { token });
    assert.equal((await documented(post('/api/users/logout'), '/api/users/logout', { token })).status, 401);
  });

  it('describes the answers of the file routes', async () => {
    const alice = await registerAndLogin(api, 'docalice');
    const bob = await registerAndLogin(api, 'docbob');
    const upload = post('/api/files/upload');
    const group = await documented(upload, '/api/files/upload', { token: alice.token, body: fileForm('notes.txt', 'hello, group') });
    await documented(upload, `/api/files/upload?target_id=${bob.user.user_id}`, { token: alice.token, body: fileForm('a.png', pngBytes(8, 8), 'image/png') });
    assert.equal((await documented(upload, '/api/files/upload?target_id=0000000000', { token: alice.token, body: fileForm('n.txt', 'x') })).status, 404);
    assert.equal((await documented(upload, '/api/files/upload?target_id=nope', { token: alice.token, body: fileForm('n.txt', 'x') })).status, 400);
    assert.equal((await documented(upload, '/api/files/upload', { token: alice.token, body: fileForm('fake.png', 'not a png') })).status, 415);
    assert.equal((await documented(upload, '/api/files/upload', { body: fileForm('n.txt', 'x') })).status, 401);

    const download = get('/api/files/download');
    const name = group.json.data.file_name as string;
    const path = `/api/files/download?file=${encodeURIComponent(name)}`;
    const whole = await documented(download, path, { token: bob.token });
    assert.equal(whole.text, 'hello, group');
    assert.equal((await documented(download, path, { token: bob.token, headers: { range: 'bytes=0-4' } })).status, 206);
    // A browser's revalidation; without its own Cache-Control, fetch would add `no-cache`, which forbids a 304.
    const revalidate = { 'if-none-match': whole.headers.get('etag')!, 'cache-control': 'max-age=0' };
    assert.equal((await documented(download, path, { token: bob.token, headers: revalidate })).status, 304);
    assert.equal((await documented(download, path, { token: bob.token, headers: { range: 'bytes=999-' } })).status, 416);
    assert.equal((await documented(download, '/api/files/download?file=nothing.txt', { token: bob.token })).status, 404);
    assert.equal((await documented(download, '/api/files/download', { token: bob.token })).status, 400);

    await documented(get('/api/files'), '/api/files?sort=file_size%20desc', { token: alice.token });
    assert.equal((await documented(get('/api/files'), '/api/files?limit=0', { token: alice.token })).status, 400);
  });

  it('describes the answers of the history routes, file messages included', async () => {
    const carol = await registerAndLogin(api, 'doccarol');
    const dave = await registerAndLogin(api, 'docdave');
    const file = await api.db.file.create({
      data: { fileName: '1700000000000-doc.pdf', originalName: 'doc.pdf', ownerId: carol.user.user_id, size: 10n, mimeType: 'application/pdf', fileType: 'pdf', storageKey: 'files/x' },
    });
    const write = (conversation: string, targetId: string | null, msgType: number, fileId: bigint | null, clientMsgId: string | null) =>
      writer.write({ conversation, senderId: carol.user.user_id, targetId, msgType, content: 'hi', clientMsgId, fileId, onlineCount: 1 });
    await write(GROUP_CONVERSATION, null, MsgType.Text, null, 'doc-1');
    await write(GROUP_CONVERSATION, null, MsgType.File, file.id, null);
    await write(privateConversation(carol.user.user_id, dave.user.user_id), dave.user.user_id, MsgType.Text, null, null);

    const groupList = await documented(get('/api/chat_groupList'), '/api/chat_groupList?limit=5', { token: dave.token });
    assert.ok(groupList.json.data.list.some((frame: { file?: unknown }) => frame.file), 'a file message was checked');
    assert.equal((await documented(get('/api/chat_groupList'), '/api/chat_groupList?after_id=1&before_id=9', { token: dave.token })).status, 400);
    const privateList = await documented(get('/api/chat_privateList'), `/api/chat_privateList?target_id=${carol.user.user_id}`, { token: dave.token });
    assert.equal(privateList.json.data.count, 1);
    assert.equal((await documented(get('/api/chat_privateList'), '/api/chat_privateList?username=nobody-here', { token: dave.token })).status, 404);
    assert.equal((await documented(get('/api/chat_privateList'), '/api/chat_privateList')).status, 401);
  });

  it('describes the answers of the rooms, inbox and Part 2 file routes', async () => {
    const owner = await registerAndLogin(api, 'docowner');
    const member = await registerAndLogin(api, 'docmember');
    const patch = (path: string): Route => ({ method: 'PATCH', path });
    const del = (path: string): Route => ({ method: 'DELETE', path });
    const create = await documented(post('/api/rooms'), '/api/rooms', { token: owner.token, body: json({ name: 'docs', member_ids: [member.user.user_id] }) });
    const room = create.json.data as { room_id: string; conversation: string };
    assert.equal((await documented(post('/api/rooms'), '/api/rooms', { token: owner.token, body: json({ name: '' }) })).status, 400);
    await documented(get('/api/rooms'), '/api/rooms', { token: member.token });
    await documented(get('/api/rooms/{room_id}'), `/api/rooms/${room.room_id}`, { token: member.token });
    assert.equal((await documented(get('/api/rooms/{room_id}'), '/api/rooms/000000000000', { token: member.token })).status, 404);
    await documented(patch('/api/rooms/{room_id}'), `/api/rooms/${room.room_id}`, { token: owner.token, body: json({ name: 'renamed' }) });
    assert.equal((await documented(patch('/api/rooms/{room_id}'), `/api/rooms/${room.room_id}`, { token: member.token, body: json({ name: 'x' }) })).status, 403);
    const members = post('/api/rooms/{room_id}/members');
    await documented(members, `/api/rooms/${room.room_id}/members`, { token: owner.token, body: json({ user_ids: [member.user.user_id] }) });
    assert.equal((await documented(members, `/api/rooms/${room.room_id}/members`, { token: owner.token, body: json({ user_ids: ['00000000aa'] }) })).status, 400);
    const one = `/api/rooms/${room.room_id}/members/${member.user.user_id}`;
    await documented(patch('/api/rooms/{room_id}/members/{user_id}'), one, { token: owner.token, body: json({ role: 'admin' }) });

    const pic = await documented(post('/api/files/upload'), `/api/files/upload?conversation=${encodeURIComponent(room.conversation)}`, {
      token: member.token,
      body: fileForm('p.png', pngBytes(8, 8), 'image/png'),
    });
    const link = get('/api/files/download');
    await documented(link, `/${pic.json.data.url}`);
    assert.equal((await documented(link, `/api/files/download?file=${pic.json.data.file_name}&expires=1&sig=${'A'.repeat(43)}`)).status, 404);
    await documented(get('/api/files'), '/api/files', { token: member.token });
    const stored = await writer.write({ conversation: room.conversation, senderId: member.user.user_id, targetId: null, msgType: MsgType.Text, content: 'hi', clientMsgId: null, fileId: null, onlineCount: 1 });

    await documented(get('/api/conversations'), '/api/conversations?limit=2', { token: owner.token });
    assert.equal((await documented(get('/api/conversations'), '/api/conversations?before=x', { token: owner.token })).status, 400);
    const messages = get('/api/conversations/{conversation}/messages');
    await documented(messages, `/api/conversations/${encodeURIComponent(room.conversation)}/messages`, { token: owner.token });
    assert.equal((await documented(messages, '/api/conversations/r%3A000000000000/messages', { token: owner.token })).status, 404);
    assert.equal((await documented(messages, '/api/conversations/nope/messages', { token: owner.token })).status, 400);
    const read = post('/api/conversations/{conversation}/read');
    await documented(read, `/api/conversations/${encodeURIComponent(room.conversation)}/read`, { token: owner.token, body: json({ last_read_id: Number(stored.id) }) });
    assert.equal((await documented(read, '/api/conversations/group/read', { token: owner.token, body: json({ last_read_id: 'x' }) })).status, 400);
    const positions = get('/api/conversations/{conversation}/read');
    const readBy = await documented(positions, `/api/conversations/${encodeURIComponent(room.conversation)}/read`, { token: member.token });
    assert.equal(readBy.json.data.others_read_id, Number(stored.id), "the owner's read position, as the member sees it");
    assert.equal((await documented(positions, '/api/conversations/group/read', { token: owner.token })).json.data.others_read_id, null);
    assert.equal((await documented(positions, '/api/conversations/r%3A000000000000/read', { token: owner.token })).status, 404);

    await documented(del('/api/rooms/{room_id}/members/{user_id}'), one, { token: owner.token });
    assert.equal((await documented(del('/api/rooms/{room_id}/members/{user_id}'), one, { token: owner.token })).status, 404);
  });

  it('describes the operational and documentation routes, and readiness when Redis is away', async () => {
    await documented(get('/healthz'), '/healthz');
    await documented(get('/readyz'), '/readyz');
    await documented(get('/metrics'), '/metrics');
    await documented(get('/api/openapi.json'), '/api/openapi.json');
    const frames = await documented(get('/api/ws-frames.schema.json'), '/api/ws-frames.schema.json');
    assert.ok(frames.json.$defs.ServerFrame && frames.json.$defs.ClientFrame);
    api.redis.disconnect();
    try {
      const down = await documented(get('/readyz'), '/readyz');
      assert.equal(down.status, 503);
    } finally {
      await api.redis.connect();
    }
  });

  it('describes the 429 of a sign-in limit', async () => {
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) {
      status = (await documented(post('/api/users/register'), '/api/users/register', { body: json(newAccount('flood')) })).status;
    }
    assert.equal(status, 429);
  });

  it('has seen a documented success of every route of the app', () => {
    const missing = appRoutes(api.app).filter((route) => !succeeded.has(`${route.method} ${route.path}`));
    assert.deepEqual(missing, []);
  });
});
