import { createConnection } from 'mariadb';
import { poolConfigFromUrl } from '@im/db';
import type { ClientSpec } from '../loadgen/messages.ts';
import { chatUrl, createUsers } from '../users.ts';
import { listOption, numberOption, openCluster, type Scenario } from './context.ts';
import { fanoutSummary } from './room-fanout.ts';
import { runFanout } from './fanout.ts';

/**
 * 1,000 private pairs, the two sides on different gateways; everyone sends, stepping the total
 * rate. Each message is stored and delivered to both sockets of its conversation (the sender's
 * echo and the peer). Afterwards the stored rows are counted against what was sent.
 */
export const privateChat: Scenario = {
  name: 'private',
  about: '1,000 private pairs (sides on different gateways), everyone sending, total rate stepped: stored and delivered msg/s at p99 < 50 ms',
  async run(ctx) {
    const pairs = numberOption(ctx, 'pairs', ctx.quick ? 20 : 1_000);
    const rates = listOption(ctx, 'rates', ctx.quick ? [50, 100] : [1_000, 2_000, 3_000, 5_000, 7_000]);
    const stepSeconds = numberOption(ctx, 'step-seconds', ctx.quick ? 2 : 10);
    const workers = ctx.workers ?? 2;
    const cluster = await openCluster(ctx, { gateways: 2 });
    try {
      ctx.log(`  ours: creating ${pairs * 2} users`);
      const users = await createUsers(cluster.databaseUrl, cluster.config, pairs * 2);
      const clients: ClientSpec[] = users.map((u, i) => {
        const peer = users[i ^ 1]!;
        const gateway = cluster.gatewayUrls[(i & 1) % cluster.gatewayUrls.length]!;
        return { id: i, room: i >> 1, url: chatUrl(gateway, u, peer) };
      });
      const result = await runFanout({
        target: 'ours',
        protocol: 'im',
        clients,
        roomSizes: Array.from({ length: pairs }, () => 2),
        senders: clients.map((c) => c.id),
        rates,
        stepSeconds,
        warmupSeconds: numberOption(ctx, 'warmup-seconds', ctx.quick ? 0.5 : 2),
        payloadBytes: numberOption(ctx, 'payload-bytes', 100),
        workers,
        appProcesses: cluster.processes(),
        connectConcurrency: 200,
        log: ctx.log,
      });
      const stored = await countPrivateRows(cluster.databaseUrl);
      const sent = result.steps.reduce((a, s) => a + s.sent, 0);
      for (const step of result.steps) step.extra = { storedAndDeliveredPerSecond: step.lost === 0 ? step.sentRate : null };
      const summary = fanoutSummary(result.steps, 50);
      const clean = result.steps.filter((s) => !s.generator.saturated);
      const best = clean.filter((s) => s.lost === 0 && s.latency.p99 < 50);
      result.summary = {
        messagesPerSecondAtP99Under50ms: best.length ? Math.max(...best.map((s) => s.sentRate)) : clean.length ? 0 : null,
        deliveriesPerSecondAtP99Under50ms: summary.deliveriesPerSecondAtP99Under50ms ?? null,
        sent,
        stored,
        notStored: Math.max(0, sent - stored),
        lost: summary.lost ?? 0,
        serverCpuPerDeliveryUs: summary.serverCpuPerDeliveryUs ?? null,
        saturatedSteps: summary.saturatedSteps ?? 0,
      };
      return {
        parameters: { pairs, rates, stepSeconds, workers, gateways: 2 },
        targets: [result],
        notes: sent !== stored ? [`${sent} sent but ${stored} stored`] : [],
      };
    } finally {
      await cluster.stop();
    }
  },
};

async function countPrivateRows(databaseUrl: string): Promise<number> {
  const conn = await createConnection(poolConfigFromUrl(databaseUrl));
  try {
    const [row] = await conn.query(`SELECT COUNT(*) AS n FROM chat_messages WHERE conversation LIKE 'p:%'`);
    return Number(row.n);
  } finally {
    await conn.end();
  }
}
