import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ImClient } from '@im/client';
import { createDb, type Db } from '@im/db';
import { privateConversation, roomConversation } from '@im/protocol';
import { startCluster, signUpWith, type TestCluster } from '../support/cluster.ts';
import { writeSettingsFile } from '../support/settings-file.ts';
import { ChatClient } from '../support/chat-client.ts';
import { chatClientFrameProblem } from '../support/frame-check.ts';

/**
 * `$defs/Part2ClientFrame` of the frames schema against a real gateway's `/api/chat`: the
 * gateway answers with a 1002 error exactly the frames the schema calls invalid.
 */
describe('/api/chat client frames schema against the gateway', () => {
  let cluster: TestCluster;
  let db: Db;
  let client: ChatClient;

  // Frames go out as fast as the gateway answers them: the rate limit (1007) must not answer instead.
  const settings = writeSettingsFile({ gateway: { messages_per_second: 1_000 } });

  before(async () => {
    cluster = await startCluster({ gateways: 1, env: { IM_CONFIG: settings.path } });
    db = createDb({ url: cluster.database.url, connectionLimit: 2 });
  });
  after(async () => {
    await client?.close();
    await db?.$disconnect();
    await cluster?.stop();
    settings.remove();
  });

  let markers = 0;
  /**
   * Sends one frame, then a marker the gateway refuses in a way of its own (a room nobody is in,
   * with a client_msg_id): frames are handled in order, so what came before the marker's answer
   * is the frame's answer.
   */
  async function errorFor(frame: unknown): Promise<any> {
    const from = client.frames.length;
    const marker = `marker-${(markers += 1)}`;
    client.send(JSON.stringify(frame));
    client.send({ conversation: 'r:000000000000', msg_type: 4, content: 'marker', client_msg_id: marker });
    const answered = await client.next((f) => f.msg_type === 1 && f.client_msg_id === marker, 10_000, from);
    return client.frames.slice(from, client.frames.indexOf(answered, from)).find((f) => f.msg_type === 1 && f.code !== 0);
  }

  it('accepts what the schema calls valid, and refuses with 1002 what it calls invalid', async () => {
    const [me, peer] = [new ImClient({ baseUrl: cluster.apiUrl }), new ImClient({ baseUrl: cluster.apiUrl })];
    const meUser = await signUpWith(me, `schema${Date.now()}`);
    const peerUser = await signUpWith(peer, `peer${Date.now()}`);
    const room = roomConversation((await me.rooms.create({ name: 'schema', memberIds: [peerUser.userId] })).room_id);
    const pair = privateConversation(meUser.userId, peerUser.userId);
    const png = `${Date.now()}-${randomBytes(6).toString('hex')}.png`;
    await db.file.create({
      data: { fileName: png, originalName: 'f.png', ownerId: meUser.userId, targetId: null, size: 10n, mimeType: 'image/png', fileType: 'png', storageKey: `files/${png}`, conversation: room },
    });
    client = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: meUser.token, kind: 'chat' });
    client.send({ conversation: pair, msg_type: 4, content: 'first', client_msg_id: 'first' });
    const firstId = (await client.next((f) => f.client_msg_id === 'first' && f.id !== undefined)).id;

    const valid: unknown[] = [
      { conversation: pair, msg_type: 4, content: 'plain text' },
      { conversation: room, msg_type: 4, content: 'extra fields are ignored', client_msg_id: 'x-1', extra: { nested: true } },
      { conversation: room, msg_type: 7, content: '', file: { name: png } },
      { conversation: room, msg_type: 8 },
      { conversation: pair, msg_type: 9, last_read_id: firstId },
      { msg_type: 10, conversations: {} },
      { msg_type: 10, conversations: { [room]: 0, [pair]: firstId, group: 0 } },
    ];
    const invalid: unknown[] = [
      { msg_type: 4, content: 'no conversation' },
      { conversation: 'P:ABC', msg_type: 4, content: 'not an id' },
      { conversation: room, msg_type: 4, content: '' },
      { conversation: room, msg_type: 4, content: 42 },
      { conversation: room, msg_type: 6, content: '', file: { name: png } },
      { conversation: room, msg_type: 1, content: 'server-only' },
      { conversation: room, msg_type: 11 },
      { conversation: pair, msg_type: 9 },
      { conversation: pair, msg_type: 9, last_read_id: 0 },
      { conversation: pair, msg_type: 9, last_read_id: String(firstId) },
      { msg_type: 10 },
      { msg_type: 10, conversations: [] },
      { msg_type: 10, conversations: { nowhere: 0 } },
      { msg_type: 10, conversations: { [room]: -1 } },
      { msg_type: 10, conversations: { [room]: 1.5 } },
    ];
    // (An unsorted pair `p:<b>:<a>` is refused too, 1002, but a JSON Schema pattern cannot say so.)
    for (const frame of valid) {
      assert.equal(chatClientFrameProblem(frame), undefined, `schema should accept ${JSON.stringify(frame)}`);
      assert.equal(await errorFor(frame), undefined, `gateway should accept ${JSON.stringify(frame)}`);
    }
    for (const frame of invalid) {
      assert.ok(chatClientFrameProblem(frame), `schema should refuse ${JSON.stringify(frame)}`);
      assert.equal((await errorFor(frame))?.code, 1002, `gateway should refuse ${JSON.stringify(frame)} with 1002; got ${JSON.stringify(client.frames.slice(-4))}`);
    }
  });
});
