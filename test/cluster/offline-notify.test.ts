import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '@im/testing';
import { ChatClient } from '../support/chat-client.ts';
import { freePort, startProcess, type RunningProcess } from '../support/cluster-process.ts';
import { newUser, startCluster, waitReady, type TestCluster } from '../support/cluster.ts';
import { writeSettingsFile } from '../support/settings-file.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Payload {
  data: { recipient_id: string; message: { id: string; content: string } };
}

const about = (content: string) => (hook: ReceivedWebhook) => (hook.payload as Payload | undefined)?.data.message.content === content;

/**
 * Offline notifications across real processes: the API, two gateways and the worker. The worker
 * reads what the gateways stored, so a gateway killed right after storing a message (and a worker
 * that was down meanwhile) still gets it notified, exactly once.
 */
describe('offline notifications with real gateways and worker', () => {
  let cluster: TestCluster;
  let receiver: WebhookReceiver;
  let settings: ReturnType<typeof writeSettingsFile>;
  const workers: RunningProcess[] = [];
  const clients: ChatClient[] = [];

  async function startWorker(): Promise<void> {
    const port = await freePort();
    const worker = startProcess('apps/worker/src/index.ts', { ...cluster.env, WORKER_PORT: String(port) });
    workers.push(worker);
    await waitReady(`http://127.0.0.1:${port}`, worker);
  }

  before(async () => {
    receiver = await startWebhookReceiver(SECRET);
    settings = writeSettingsFile({
      notifications: {
        enabled: true,
        poll_ms: 100,
        batch_size: 500,
        settle_ms: 10_000,
        // A killed worker's lease runs out soon, so the next one takes over quickly.
        lease_ms: 1_000,
        job_retention_seconds: 3600,
        webhooks: { attempts: 3, backoff_ms: 100, timeout_ms: 2_000, endpoints: [{ name: 'crm', url: receiver.url, secret: SECRET, events: ['message.offline'], concurrency: 1 }] },
        digest: { interval_seconds: 3600, collect_seconds: 60, max_messages: 50 },
      },
    });
    cluster = await startCluster({ gateways: 2, env: { IM_CONFIG: settings.path } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(workers.map((w) => w.stop()));
    await cluster?.stop();
    await receiver?.close();
    settings?.remove();
  });

  it('a gateway killed right after storing a message (the worker down too) still notifies exactly once', async () => {
    await startWorker();
    const [alice, bob] = [await newUser(cluster, 'alice'), await newUser(cluster, 'bob')];
    const a0 = await ChatClient.connect(cluster.gatewayUrls[0]!, { token: alice.token, kind: 'private', targetId: bob.userId });
    clients.push(a0);
    a0.send({ content: 'while bob is away', msg_type: 4 });
    await a0.next((f) => f.content === 'while bob is away');
    const [first] = await receiver.waitFor(about('while bob is away'));
    assert.equal(first!.error, undefined, 'signed with the endpoint secret');
    assert.equal((first!.payload as Payload).data.recipient_id, bob.userId);

    // The worker dies; a message is stored and acknowledged, and its gateway dies at once.
    workers[0]!.child.kill('SIGKILL');
    await workers[0]!.exited;
    a0.send({ content: 'stored, then the gateway died', msg_type: 4, client_msg_id: 'late-1' });
    await a0.next((f) => f.content === 'stored, then the gateway died');
    cluster.gateways[0]!.child.kill('SIGKILL');
    await a0.closed;

    // A new worker reads from the durable cursor: the message is notified, the earlier one not again.
    await startWorker();
    await receiver.waitFor(about('stored, then the gateway died'));
    // alice resends the last message on another gateway (same client_msg_id: the same message)
    // and sends a new one; the endpoint takes deliveries one at a time in stored order, so any
    // second delivery of the earlier ones would have arrived before the new one.
    const a1 = await ChatClient.connect(cluster.gatewayUrls[1]!, { token: alice.token, kind: 'private', targetId: bob.userId });
    clients.push(a1);
    a1.send({ content: 'stored, then the gateway died', msg_type: 4, client_msg_id: 'late-1' });
    a1.send({ content: 'after the crash', msg_type: 4 });
    await a1.next((f) => f.content === 'after the crash');
    await receiver.waitFor(about('after the crash'));
    for (const content of ['while bob is away', 'stored, then the gateway died', 'after the crash']) {
      const hooks = receiver.received.filter(about(content));
      assert.equal(hooks.length, 1, `one webhook for "${content}"`);
      assert.equal(hooks[0]!.error, undefined);
    }
  });
});
