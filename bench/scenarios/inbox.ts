import { Redis } from 'ioredis';
import type { ClientSpec } from '../loadgen/messages.ts';
import { LatencyHistogram } from '../metrics/histogram.ts';
import { sampleMemory } from '../metrics/memory.ts';
import { fetchMetrics, metricValue } from '../metrics/prometheus.ts';
import { round } from '../metrics/proc-stats.ts';
import { createUsers, part2Url, type BenchUser } from '../users.ts';
import { numberOption, openCluster, type Scenario } from './context.ts';
import { runFanout } from './fanout.ts';
import { groupReference } from './inbox-group-reference.ts';
import { conversationHeads, privateShortfallStory, insertHistory, insertInbox, inboxLayout, storedExpectations } from './inbox-data.ts';

/**
 * Part 2's inbox: every user on one `ws /api/chat` socket (two gateways), each in 10 rooms of 50
 * and 10 private chats; messages (80 % to rooms), typing and read frames at a steady rate. Step 1
 * is the steady state (delivery p99, lost, CPU per delivery, RSS per socket, Redis publishes per
 * message); in step 2 gw-0 is killed and its clients reconnect to gw-1 and resume their 20
 * conversations (time until the last is caught up; lost over the kill). Then GET /api/conversations.
 */
export const inbox: Scenario = {
  name: 'inbox',
  about: 'N users on /api/chat in 10 rooms of 50 and 10 private chats, messages + typing + read; kill a gateway: resume time; GET /api/conversations p99',
  async run(ctx) {
    if (ctx.url) throw new Error('inbox kills a gateway: it needs a cluster the bench starts (no --url)');
    const q = ctx.quick;
    const p = {
      users: numberOption(ctx, 'users', q ? 100 : 10_000),
      roomsPerUser: numberOption(ctx, 'rooms-per-user', 10),
      roomSize: numberOption(ctx, 'room-size', q ? 10 : 50),
      privatePerUser: numberOption(ctx, 'private-per-user', 10),
      rate: numberOption(ctx, 'rate', q ? 50 : 1_000),
      privateShare: numberOption(ctx, 'private-share', 0.2),
      typingRate: numberOption(ctx, 'typing-rate', q ? 20 : 500),
      readRate: numberOption(ctx, 'read-rate', q ? 20 : 500),
      stepSeconds: numberOption(ctx, 'step-seconds', q ? 2 : 20),
      warmupSeconds: numberOption(ctx, 'warmup-seconds', q ? 0.5 : 2),
      killAfterSeconds: numberOption(ctx, 'kill-after-seconds', q ? 1 : 3),
      messages: numberOption(ctx, 'messages', 0),
      inboxRequests: numberOption(ctx, 'inbox-requests', q ? 50 : 2_000),
      inboxConcurrency: numberOption(ctx, 'inbox-concurrency', q ? 5 : 20),
      payloadBytes: numberOption(ctx, 'payload-bytes', 100),
      workers: ctx.workers ?? (q ? 2 : 4),
    };
    const cluster = await openCluster(ctx, { gateways: 2 });
    const redis = new Redis(cluster.config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2, commandTimeout: 5_000 });
    try {
      await redis.connect();
      ctx.log(`  ours: creating ${p.users} users, their rooms and private chats`);
      const users = await createUsers(cluster.databaseUrl, cluster.config, p.users);
      const layout = inboxLayout(users, p.roomsPerUser, p.roomSize, p.privatePerUser);
      await insertInbox(cluster.databaseUrl, users, layout);
      if (p.messages > 0) {
        ctx.log(`  ours: inserting ${p.messages} old messages`);
        await insertHistory(cluster.databaseUrl, users, layout, p.messages);
      }
      // Each client knows where its conversations stand, as one that loaded its inbox does.
      const heads = await conversationHeads(cluster.databaseUrl);
      const [victim, survivor] = cluster.gatewayUrls as [string, string];
      const specs: ClientSpec[] = users.map((u, i) => ({
        id: i,
        room: 0,
        url: part2Url(i % 2 === 0 ? victim : survivor, u),
        failover: [part2Url(survivor, u)],
        conversations: layout.byUser[i]!.map((c) => layout.conversations[c]!),
        conversationRooms: layout.byUser[i]!,
        conversationLastIds: layout.byUser[i]!.map((c) => heads.get(layout.conversations[c]!) ?? 0),
      }));
      ctx.log(`  ours: Part 1 group of ${p.roomSize} at ${p.rate} msg/s, the CPU bar's reference`);
      const group = await groupReference({
        gatewayUrls: cluster.gatewayUrls,
        users,
        size: p.roomSize,
        rate: p.rate,
        stepSeconds: p.stepSeconds,
        warmupSeconds: p.warmupSeconds,
        payloadBytes: p.payloadBytes,
        appProcesses: cluster.processes(),
        log: ctx.log,
      });
      const gateways = cluster.processes().filter((x) => x.name.startsWith('gw'));
      const memory = () => gatewaysMemory(gateways.map((g, i) => ({ pid: g.pid, metricsUrl: `${cluster.gatewayUrls[i]}/metrics` })));
      // After the group reference: its sockets are gone, and what it grew (V8's young generation,
      // its catch-up buffer) is the gateway's own, not the inbox sockets'.
      const memoryBefore = await memory();
      let memoryConnected: GatewaysMemory | undefined;
      let memorySteady: GatewaysMemory | undefined;
      const publishes = { start: 0, end: 0 };
      const messagePublishes = { start: 0, end: 0 };
      const metricsUrls = cluster.gatewayUrls.map((url) => `${url}/metrics`);
      let killMs = 0;
      const delivered: Array<Map<string, number>> = [new Map(), new Map()];
      const privateLog = new Map<string, string[]>();
      const result = await runFanout({
        target: 'ours',
        protocol: 'chat',
        clients: specs,
        roomSizes: layout.sizes,
        senders: specs.map((s) => s.id),
        rates: [p.rate, p.rate],
        stepSeconds: p.stepSeconds,
        warmupSeconds: p.warmupSeconds,
        payloadBytes: p.payloadBytes,
        chat: { privateShare: p.privateShare, firstPrivate: p.roomsPerUser, typingRate: p.typingRate, readRate: p.readRate },
        workers: p.workers,
        appProcesses: cluster.processes(),
        connectConcurrency: 400,
        connectTimeoutMs: 300_000,
        reconnect: true,
        onScheduled(firstStepMs, nowMs) {
          const stepMs = p.stepSeconds * 1000;
          void memory().then((m) => (memoryConnected = m));
          setTimeout(() => {
            void publishCount(redis).then((n) => (publishes.start = n));
            void messagePublishCount(metricsUrls).then((n) => (messagePublishes.start = n));
          }, Math.max(0, firstStepMs - nowMs()));
          setTimeout(() => {
            void memory().then((m) => (memorySteady = m));
            void publishCount(redis).then((n) => (publishes.end = n));
            void messagePublishCount(metricsUrls).then((n) => (messagePublishes.end = n));
          }, Math.max(0, firstStepMs + stepMs - nowMs()));
          setTimeout(() => {
            killMs = nowMs();
            ctx.log(`  ours: kill -9 gw-0 (${Math.ceil(p.users / 2)} clients)`);
            cluster.killGateway!(0);
          }, Math.max(0, firstStepMs + stepMs + p.killAfterSeconds * 1000 - nowMs()));
        },
        async afterSends(generator) {
          const deadline = Date.now() + 180_000;
          for (;;) {
            const open = (await generator.progress()).reduce((a, x) => a + x.open, 0);
            if (open >= specs.length || Date.now() > deadline) break;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        },
        onCollected(stats, summary) {
          const total = (f: (s: (typeof stats)[number]) => number) => stats.reduce((a, s) => a + f(s), 0);
          const reconnected = total((s) => s.reconnected);
          const lastWelcome = Math.max(...stats.map((s) => s.lastWelcomeMs));
          summary.typingSent = total((s) => s.typingSent);
          summary.readSent = total((s) => s.readSent);
          summary.readSkipped = total((s) => s.readSkipped);
          summary.typingReceived = total((s) => s.typingReceived);
          summary.receiptsReceived = total((s) => s.receiptsReceived);
          summary.clientsOnKilledGateway = Math.ceil(p.users / 2);
          summary.reconnected = reconnected;
          summary.reconnectFailures = total((s) => s.reconnectFailures);
          for (const s of stats) {
            s.deliveredByConversation?.forEach((byConversation, step) => {
              for (const [conversation, n] of Object.entries(byConversation)) delivered[step]?.set(conversation, (delivered[step]!.get(conversation) ?? 0) + n);
            });
            for (const [conversation, entries] of Object.entries(s.privateLog ?? {})) privateLog.set(conversation, [...(privateLog.get(conversation) ?? []), ...entries]);
          }
          summary.allBackAndCaughtUpSeconds = reconnected >= Math.ceil(p.users / 2) && killMs > 0 ? Math.round(lastWelcome - killMs) / 1000 : null;
        },
        log: ctx.log,
      });
      const [steady, storm] = result.steps as [(typeof result.steps)[0], (typeof result.steps)[0]];
      const stored = [await storedExpectations(cluster.databaseUrl, layout, 0), await storedExpectations(cluster.databaseUrl, layout, 1)];
      steady.extra = { label: 'steady', stored: stored[0]!.stored };
      storm.extra = { label: 'gw-0 killed', stored: stored[1]!.stored };
      result.steps.push({ ...group, index: 2, extra: { label: `Part 1 group of ${p.roomSize}` } });
      // Lost = deliveries that stored messages owe and that never came (sends the dead gateway
      // never stored are reported apart as notStored).
      const lostOfStored = (i: 0 | 1, step: typeof steady) => Math.max(0, stored[i]!.expected - step.delivered);
      const shortfalls = [0, 1].map((i) => shortfallOf(stored[i]!.expectedByConversation, delivered[i]!));
      for (const [i, shortfall] of shortfalls.entries()) {
        if (shortfall.conversations === 0) continue;
        ctx.log(`  ours: step ${i + 1} owed deliveries missing: ${JSON.stringify(shortfall)}`);
        for (const [conversation] of shortfall.worst.filter(([c]) => c.startsWith('p:')).slice(0, 3)) {
          ctx.log(await privateShortfallStory(cluster.databaseUrl, conversation, i, privateLog.get(conversation) ?? [], killMs));
        }
      }
      ctx.log(`  ours: GET /api/conversations × ${p.inboxRequests} (${p.inboxConcurrency} in flight), then × ${Math.ceil(p.inboxRequests / 10)} one at a time`);
      const inboxLatency = await inboxQueries(cluster.apiUrl, users, p.inboxRequests, p.inboxConcurrency);
      const inboxSerial = await inboxQueries(cluster.apiUrl, users, Math.ceil(p.inboxRequests / 10), 1);
      Object.assign(result.summary, {
        p99Ms: steady.latency.p99,
        lost: lostOfStored(0, steady),
        lostOverKill: lostOfStored(1, storm),
        notStored: steady.sent + storm.sent - stored[0]!.stored - stored[1]!.stored,
        duplicates: steady.duplicates + storm.duplicates,
        missingOverKill: shortfalls[1],
        serverCpuPerDeliveryUs: steady.serverCpuPerDeliveryUs,
        appCpuPerDeliveryUs: steady.appCpuPerDeliveryUs,
        serverCpuPerFrameUs: steady.serverCpuPerFrameUs ?? null,
        groupServerCpuPerDeliveryUs: group.serverCpuPerDeliveryUs,
        groupP99Ms: group.latency.p99,
        cpuPerDeliveryVsGroup: round(steady.serverCpuPerDeliveryUs / group.serverCpuPerDeliveryUs, 2),
        cpuPerFrameVsGroup: round((steady.serverCpuPerFrameUs ?? NaN) / group.serverCpuPerDeliveryUs, 2),
        ...perConnection(memoryBefore, memoryConnected, memorySteady, p.users),
        messagesSentSteady: steady.sent,
        redisPublishesSteady: publishes.end - publishes.start,
        redisPublishesPerMessage: steady.sent > 0 ? round((publishes.end - publishes.start) / steady.sent, 2) : null,
        // The gateways' own count of the publishes that carried stored messages (typing, receipts and presence apart).
        messagePublishesPerMessage: steady.sent > 0 ? round((messagePublishes.end - messagePublishes.start) / steady.sent, 2) : null,
        inboxP50Ms: inboxLatency.p50,
        inboxP99Ms: inboxLatency.p99,
        inboxFailed: inboxLatency.failed,
        inboxOneAtATimeP50Ms: inboxSerial.p50,
        inboxOneAtATimeP99Ms: inboxSerial.p99,
      });
      return {
        parameters: { ...p, gateways: 2, rooms: layout.rooms, conversations: layout.conversations.length },
        targets: [result],
        notes: [
          'Redis is shared: INFO commandstats counts every PUBLISH on the server, also other users\' (and typing/read frames in the step).',
          'Gateway RSS per connection: both gateways\' RSS at the end of the steady step minus before connecting (after the group reference, so V8\'s young generation has already grown), over all sockets; "connected": once all were connected, before the load; "old space": V8\'s old generation as used, the same way (what the sockets\' objects keep).',
          'GET /api/conversations: closed loop (inbox-concurrency requests in flight), after the message steps.',
          ...(result.summary.allBackAndCaughtUpSeconds === null ? [`only ${result.summary.reconnected} of ${Math.ceil(p.users / 2)} clients came back and caught up`] : []),
        ],
      };
    } finally {
      redis.disconnect();
      await cluster.stop();
    }
  },
};

/** `cmdstat_publish:calls=N` from INFO commandstats. */
async function publishCount(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/** `im_gateway_publishes_total{kind="message"}` summed over the gateways' /metrics (NaN if one could not be read). */
async function messagePublishCount(metricsUrls: string[]): Promise<number> {
  const texts = await Promise.all(metricsUrls.map(fetchMetrics));
  // A labelled counter has no sample until its first publish: absent from a page that was read means 0.
  const count = (text: string) => (text === '' ? NaN : metricValue(text, 'im_gateway_publishes_total', 'kind="message"') || 0);
  return texts.reduce((sum, text) => sum + count(text), 0);
}

async function inboxQueries(apiUrl: string, users: BenchUser[], count: number, concurrency: number) {
  const latency = new LatencyHistogram();
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < count) {
      next += 1;
      const user = users[Math.floor(Math.random() * users.length)]!;
      const started = performance.now();
      try {
        const response = await fetch(`${apiUrl}/api/conversations?limit=20`, { headers: { authorization: `bearer ${user.token}` }, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.status !== 200) failed += 1;
        else latency.recordMs(performance.now() - started);
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const s = latency.summary();
  return { p50: s.p50, p99: s.p99, failed };
}

interface GatewaysMemory {
  rss: number;
  oldSpaceUsed: number;
}

/** RSS and V8's old generation as used, summed over the gateways, in MiB. */
async function gatewaysMemory(gateways: Array<{ pid: number; metricsUrl: string }>): Promise<GatewaysMemory> {
  const samples = await Promise.all(gateways.map((g) => sampleMemory(g.pid, g.metricsUrl)));
  return {
    rss: samples.reduce((a, s) => a + (s?.rss ?? 0), 0),
    oldSpaceUsed: samples.reduce((a, s) => a + (s?.oldSpaceUsed ?? 0), 0),
  };
}

/** Gateway RSS per socket in KiB: with the steady load (everything it grew by), and once connected (before any load). */
function perConnection(before: GatewaysMemory, connected: GatewaysMemory | undefined, steady: GatewaysMemory | undefined, sockets: number) {
  const kib = (mib: number) => round((mib * 1024) / sockets, 2);
  return {
    gatewayRssPerConnectionKiB: steady === undefined ? null : kib(steady.rss - before.rss),
    gatewayRssPerConnectionConnectedKiB: connected === undefined ? null : kib(connected.rss - before.rss),
    // V8's old generation: the objects a socket keeps, without the young generation's garbage (whose
    // size V8 picks by traffic) or memory V8 and malloc hold on to; the part of RSS code changes move.
    gatewayOldSpacePerConnectionConnectedKiB: connected === undefined ? null : kib(connected.oldSpaceUsed - before.oldSpaceUsed),
  };
}

/** Owed deliveries that did not come, per conversation kind, and the worst conversations (where to look). */
function shortfallOf(owed: Map<string, number>, delivered: Map<string, number>) {
  let rooms = 0;
  let privates = 0;
  const worst: Array<[string, number]> = [];
  for (const [conversation, n] of owed) {
    const missing = n - (delivered.get(conversation) ?? 0);
    if (missing <= 0) continue;
    if (conversation.startsWith('p:')) privates += missing;
    else rooms += missing;
    worst.push([conversation, missing]);
  }
  worst.sort((a, b) => b[1] - a[1]);
  return { conversations: worst.length, rooms, private: privates, worst: worst.slice(0, 10) };
}
