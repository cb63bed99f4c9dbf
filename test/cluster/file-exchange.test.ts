import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import { startCluster, newUser, type TestCluster } from '../support/cluster.ts';
import { ChatClient } from '../support/chat-client.ts';

/** Two users exchange a file and an image through the cluster: upload → frame → download. */
describe('file exchange end to end', () => {
  let cluster: TestCluster;
  const clients: ChatClient[] = [];
  before(async () => {
    cluster = await startCluster({ gateways: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster.stop();
  });

  async function upload(token: string, bytes: Buffer, name: string, targetId?: string) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    const query = targetId ? `?target_id=${targetId}` : '';
    const response = await fetch(`${cluster.apiUrl}/api/files/upload${query}`, {
      method: 'POST',
      headers: { authorization: `bearer ${token}` },
      body: form,
    });
    const body = await response.json();
    assert.equal(body.code, 0, body.msg);
    return body.data;
  }

  it('a private file and a group image arrive with metadata, download byte for byte, and show in history', async () => {
    const alice = await newUser(cluster, 'xa');
    const bob = await newUser(cluster, 'xb');
    const a = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: alice.token, kind: 'private', targetId: bob.userId });
    const b = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: bob.token, kind: 'private', targetId: alice.userId });
    clients.push(a, b);

    const text = Buffer.from(`会议纪要\n${randomBytes(2000).toString('hex')}\n`);
    const sent = await upload(alice.token, text, '会议纪要.txt', bob.userId);
    a.send({ content: '纪要在这里', msg_type: 5, file: { name: sent.file_name } });
    const frame = await b.next((f) => f.msg_type === 5);
    assert.equal(frame.file.original_name, '会议纪要.txt');
    assert.equal(frame.file.size, text.length);

    const download = await fetch(`${cluster.apiUrl}/${frame.file.path}`, { headers: { authorization: `bearer ${bob.token}` } });
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), text);
    assert.match(download.headers.get('content-disposition') ?? '', /attachment/);

    const png = new PNG({ width: 4, height: 4 });
    png.data.fill(200);
    const image = PNG.sync.write(png);
    const group = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: bob.token });
    const groupA = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: alice.token });
    clients.push(group, groupA);
    const shared = await upload(alice.token, image, 'photo.png');
    groupA.send({ content: '', msg_type: 7, file: { name: shared.file_name } });
    const imageFrame = await group.next((f) => f.msg_type === 7);
    const imageBytes = await fetch(`${cluster.apiUrl}/${imageFrame.file.path}`, { headers: { authorization: `bearer ${bob.token}` } });
    assert.deepEqual(Buffer.from(await imageBytes.arrayBuffer()), image);

    const privateHistory = await (
      await fetch(`${cluster.apiUrl}/api/chat_privateList?username=${alice.username}`, { headers: { authorization: `bearer ${bob.token}` } })
    ).json();
    assert.equal(privateHistory.data.list[0].file.name, sent.file_name);
    const groupHistory = await (
      await fetch(`${cluster.apiUrl}/api/chat_groupList?limit=1`, { headers: { authorization: `bearer ${bob.token}` } })
    ).json();
    assert.equal(groupHistory.data.list[0].file.name, shared.file_name);
  });
});
