import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '@im/db';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';

/**
 * File (5), progress (6) and image (7) frames reference an uploaded file by its server-made name.
 * The upload itself is the API's (tested there); here the rows are written directly.
 */
describe('file and image messages', () => {
  let cluster: TestCluster;
  let db: Db;
  const clients: ChatClient[] = [];
  type Person = Awaited<ReturnType<typeof newUser>>;
  let alice: Person, bob: Person, carol: Person;

  before(async () => {
    cluster = await startCluster({ gateways: 2 });
    db = createDb({ url: cluster.database.url, connectionLimit: 2 });
    [alice, bob, carol] = await Promise.all([newUser(cluster, 'fa'), newUser(cluster, 'fb'), newUser(cluster, 'fc')]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await db.$disconnect();
    await cluster.stop();
  });

  async function uploaded(ownerId: string, targetId: string | null, mimeType = 'application/pdf', fileType = 'pdf') {
    const fileName = `${Date.now()}-${randomBytes(6).toString('hex')}.${fileType}`;
    await db.file.create({
      data: {
        fileName,
        originalName: `报告 ${fileName}`,
        ownerId,
        targetId,
        size: 1234n,
        mimeType,
        fileType,
        storageKey: `files/test/${fileName}`,
      },
    });
    return fileName;
  }
  const connect = async (gateway: number, options: Parameters<typeof ChatClient.connect>[1]) => {
    const client = await ChatClient.connect(cluster.gatewayUrls[gateway]!, options);
    clients.push(client);
    return client;
  };

  it('a group file message reaches peers with its metadata and download path, and is stored', async () => {
    const name = await uploaded(alice.userId, null);
    const a = await connect(0, { token: alice.token });
    const b = await connect(1, { token: bob.token });
    a.send({ content: '看看这个', msg_type: 5, file: { name } });
    const frame = await b.next((f) => f.msg_type === 5);
    assert.equal(frame.content, '看看这个');
    assert.deepEqual(frame.file, {
      name,
      original_name: `报告 ${name}`,
      size: 1234,
      type: 'pdf',
      mime_type: 'application/pdf',
      path: `api/files/download?file=${encodeURIComponent(name)}`,
    });
    const history = await (
      await fetch(`${cluster.apiUrl}/api/chat_groupList?limit=1`, { headers: { authorization: `bearer ${bob.token}` } })
    ).json();
    assert.equal(history.data.list[0].id, frame.id);
    assert.deepEqual(history.data.list[0].file, frame.file);
  });

  it('a private image goes to the peer; a non-image as msg_type 7 is refused', async () => {
    const image = await uploaded(alice.userId, bob.userId, 'image/png', 'png');
    const pdf = await uploaded(alice.userId, bob.userId);
    const a = await connect(0, { token: alice.token, kind: 'private', targetId: bob.userId });
    const b = await connect(1, { token: bob.token, kind: 'private', targetId: alice.userId });
    a.send({ content: '', msg_type: 7, file: { name: image } });
    const frame = await b.next((f) => f.msg_type === 7);
    assert.equal(frame.file.mime_type, 'image/png');
    assert.equal(frame.target_id, bob.userId);

    a.send({ content: '', msg_type: 7, file: { name: pdf }, client_msg_id: 'not-an-image' });
    const error = await a.next((f) => f.msg_type === 1 && f.client_msg_id === 'not-an-image');
    assert.equal(error.code, 1008);
  });

  it('refuses files of other conversations, other owners, unknown names and paths, with no message stored', async () => {
    const bobsGroupFile = await uploaded(bob.userId, null);
    const aliceToCarol = await uploaded(alice.userId, carol.userId);
    const aliceGroupFile = await uploaded(alice.userId, null);
    const a = await connect(0, { token: alice.token, kind: 'private', targetId: bob.userId });
    const before = await db.chatMessage.count();
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ name: bobsGroupFile }, 1005], // someone else's file, and not of this conversation
      [{ name: aliceToCarol }, 1005], // her own file, but for another conversation
      [{ name: aliceGroupFile }, 1005], // a group file in a private room
      [{ name: 'no-such-file.pdf' }, 1005],
      [{ name: '../../etc/passwd' }, 1002],
      [{ name: '/etc/passwd' }, 1002],
      [{ name: 'C:\\Windows\\win.ini' }, 1002],
      [{ name: 'a\u0000b' }, 1002],
      [{ path: '/etc/passwd' }, 1002],
      [{}, 1002],
    ];
    for (const [i, [file, code]] of cases.entries()) {
      a.send({ content: 'x', msg_type: 5, file, client_msg_id: `bad-file-${i}` });
      const error = await a.next((f) => f.msg_type === 1 && f.client_msg_id === `bad-file-${i}`);
      assert.equal(error.code, code, JSON.stringify(file));
    }
    assert.equal(await db.chatMessage.count(), before);
  });

  it('relays a progress notice (6) to the peer without storing it', async () => {
    const name = await uploaded(bob.userId, alice.userId);
    const a = await connect(0, { token: alice.token, kind: 'private', targetId: bob.userId });
    const b = await connect(1, { token: bob.token, kind: 'private', targetId: alice.userId });
    const before = await db.chatMessage.count();
    a.send({ content: 'downloaded 50%', msg_type: 6, file: { name } });
    const notice = await b.next((f) => f.msg_type === 6);
    assert.equal(notice.content, 'downloaded 50%');
    assert.equal(notice.file.name, name);
    assert.equal(notice.id, undefined);
    assert.equal(await db.chatMessage.count(), before);
  });
});
