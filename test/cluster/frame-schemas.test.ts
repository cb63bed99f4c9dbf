import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '@im/db';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';
import { clientFrameProblem } from '../support/frame-check.ts';
import { openApiChecker } from '../../apps/api/test/support/openapi-check.ts';

/**
 * The WebSocket frames' JSON Schema (served at /api/ws-frames.schema.json) against a real
 * gateway. Server frames are checked in every cluster test (ChatClient holds each one to the
 * schema); here the client side: the gateway must refuse with 1002 exactly the frames the schema
 * calls invalid, so a client that validates with the schema is never surprised.
 */
describe('WebSocket frames schema against the gateway', () => {
  let cluster: TestCluster;
  let db: Db;
  let client: ChatClient;
  let me: Awaited<ReturnType<typeof newUser>>;
  const files: { pdf: string; png: string } = { pdf: '', png: '' };
  let fileId = 0;

  before(async () => {
    cluster = await startCluster({ gateways: 1 });
    db = createDb({ url: cluster.database.url, connectionLimit: 2 });
    me = await newUser(cluster, 'schema');
    for (const [kind, mimeType] of [['pdf', 'application/pdf'], ['png', 'image/png']] as const) {
      const fileName = `${Date.now()}-${randomBytes(6).toString('hex')}.${kind}`;
      const row = await db.file.create({
        data: { fileName, originalName: `f.${kind}`, ownerId: me.userId, targetId: null, size: 10n, mimeType, fileType: kind, storageKey: `files/${fileName}` },
      });
      files[kind] = fileName;
      fileId = Number(row.id);
    }
    client = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: me.token });
  });
  after(async () => {
    await client?.close();
    await db?.$disconnect();
    await cluster?.stop();
  });

  /** Sends one frame and returns the gateway's answer to it: the echo, the relayed notice, or an error. */
  async function answerTo(frame: unknown): Promise<any> {
    const from = client.frames.length;
    client.send(JSON.stringify(frame));
    return client.next((f) => (f.msg_type === 1 && f.code !== 0) || (f.user_id === me.userId && f.msg_type >= 4), 10_000, from);
  }

  it('accepts what the schema calls valid, and refuses with 1002 what it calls invalid', async () => {
    const tag = () => `c-${randomBytes(4).toString('hex')}`;
    const valid: unknown[] = [
      { msg_type: 4, content: 'plain text' },
      { msg_type: 4, content: '  padded  ', client_msg_id: tag() },
      { msg_type: 4, content: 'extra fields are ignored', extra: { nested: true }, date: 'whatever' },
      { msg_type: 4, content: 'a file field on text is ignored', file: { name: 'anything' } },
      { msg_type: 5, content: 'a file', file: { name: files.pdf }, client_msg_id: tag() },
      { msg_type: 5, content: '', file: { id: fileId } },
      { msg_type: 5, content: '', file: { id: String(fileId) } },
      { msg_type: 6, content: '50%', file: { name: files.pdf } },
      { msg_type: 7, content: '', file: { name: files.png } },
    ];
    const invalid: unknown[] = [
      { content: 'no msg_type' },
      { msg_type: 4 },
      { msg_type: 4, content: 42 },
      { msg_type: '4', content: 'type as a string' },
      { msg_type: 4.5, content: 'not an integer' },
      { msg_type: 1, content: 'server-only' },
      { msg_type: 2, content: 'server-only' },
      { msg_type: 8, content: 'not in Part 1' },
      { msg_type: 4, content: '' },
      { msg_type: 4, content: ' \n\t ' },
      { msg_type: 4, content: 'x', client_msg_id: 'has space' },
      { msg_type: 4, content: 'x', client_msg_id: 'y'.repeat(65) },
      { msg_type: 4, content: 'x', client_msg_id: 7 },
      { msg_type: 4, content: 'x', file: 'not an object' },
      { msg_type: 4, content: 'x', file: { name: 'n'.repeat(129) } },
      { msg_type: 5, content: 'no file' },
      { msg_type: 5, content: '', file: {} },
      { msg_type: 5, content: '', file: { name: '../../etc/passwd' } },
      { msg_type: 7, content: '', file: { id: -3 } },
      { msg_type: 6, content: '', file: { id: '12abc' } },
      [{ msg_type: 4, content: 'an array' }],
      'a string',
      null,
    ];
    const disagreements: string[] = [];
    for (const [frames, schemaSays] of [[valid, 'valid'], [invalid, 'invalid']] as const) {
      for (const frame of frames) {
        const problem = clientFrameProblem(frame);
        if ((problem === undefined) !== (schemaSays === 'valid')) disagreements.push(`schema calls ${JSON.stringify(frame)} ${problem ? 'invalid' : 'valid'}`);
        const answer = await answerTo(frame);
        const refused = answer.msg_type === 1 && answer.code === 1002;
        if (refused !== (schemaSays === 'invalid')) disagreements.push(`gateway ${refused ? 'refused' : 'accepted'} ${JSON.stringify(frame)}: ${JSON.stringify(answer)}`);
      }
    }
    assert.deepEqual(disagreements, []);
  });

  it("answers a refused upgrade as the API's OpenAPI document says", async () => {
    const checker = openApiChecker(await (await fetch(`${cluster.apiUrl}/api/openapi.json`)).json());
    const base = cluster.gatewayUrls[0]!;
    const attempts = [
      { route: '/api/chat_groups', options: { token: 'not-a-token' }, status: 401 },
      { route: '/api/chat_private', options: { token: me.token, kind: 'private', targetId: 'zz' }, status: 400 },
      { route: '/api/chat_private', options: { token: me.token, kind: 'private', targetId: '0000000000' }, status: 404 },
      { route: '/api/chat_groups', options: { token: me.token, origin: 'http://elsewhere.test' }, status: 403 },
    ] as const;
    for (const { route, options, status } of attempts) {
      const refused = await ChatClient.connect(base, options).catch((err) => err);
      assert.equal(refused.status, status, `${route} ${JSON.stringify(options)}`);
      assert.deepEqual(checker.problems({ method: 'GET', path: route }, refused.status, 'application/json', refused.body), []);
    }
  });
});
