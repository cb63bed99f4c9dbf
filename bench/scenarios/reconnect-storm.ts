import type { ClientSpec } from '../loadgen/messages.ts';
import { chatUrl, createUsers } from '../users.ts';
import { numberOption, openCluster, type Scenario } from './context.ts';
import { runFanout } from './fanout.ts';

/**
 * 10,000 group clients on gw-0 and one sender on gw-1 sending steadily (5 msg/s). A few seconds in, gw-0 is
 * killed with SIGKILL; its clients reconnect to gw-1 with the last id they saw (spread over the
 * first 100 ms, as real clients would). Measured: from the kill until the last of them has its
 * welcome (which the gateway sends after the catch-up), and whether every message reached every
 * client exactly once or more (lost = never arrived).
 */
export const reconnectStorm: Scenario = {
  name: 'reconnect-storm',
  about: 'kill -9 a gateway holding 10,000 group clients: time until all are back and caught up (last_id), lost messages',
  async run(ctx) {
    if (ctx.url) throw new Error('reconnect-storm kills a gateway: it needs a cluster the bench starts (no --url)');
    const clients = numberOption(ctx, 'clients', ctx.quick ? 100 : 10_000);
    // 5 msg/s to 10,000 clients is 50,000 deliveries/s on the one gateway left. At 20 msg/s (the
    // first default) that was 200,000/s, more than this whole machine delivers even without a
    // storm (the group fan-out bar is 150,000/s over two gateways): the run then measured the
    // survivor falling behind on fan-out, not the reconnect.
    const rate = numberOption(ctx, 'rate', ctx.quick ? 10 : 5);
    const beforeSeconds = numberOption(ctx, 'before-seconds', ctx.quick ? 1 : 3);
    const afterSeconds = numberOption(ctx, 'after-seconds', ctx.quick ? 6 : 30);
    const workers = ctx.workers ?? (ctx.quick ? 2 : 4);
    const cluster = await openCluster(ctx, { gateways: 2 });
    try {
      ctx.log(`  ours: creating ${clients + 1} users`);
      const users = await createUsers(cluster.databaseUrl, cluster.config, clients + 1);
      const [victim, survivor] = cluster.gatewayUrls as [string, string];
      const specs: ClientSpec[] = users.map((u, i) => ({
        id: i,
        room: 0,
        url: chatUrl(i < clients ? victim : survivor, u),
        failover: [chatUrl(survivor, u)],
      }));
      let killMs = 0;
      const result = await runFanout({
        target: 'ours',
        protocol: 'im',
        clients: specs,
        roomSizes: [specs.length],
        senders: [clients],
        rates: [rate],
        stepSeconds: beforeSeconds + afterSeconds,
        warmupSeconds: 0,
        payloadBytes: 100,
        workers,
        appProcesses: cluster.processes(),
        connectConcurrency: 400,
        connectTimeoutMs: 900_000,
        settleMaxMs: 900_000,
        reconnect: true,
        onScheduled(firstStepMs, nowMs) {
          setTimeout(() => {
            killMs = nowMs();
            ctx.log(`  ours: kill -9 gw-0 (${clients} clients)`);
            cluster.killGateway!(0);
          }, Math.max(0, firstStepMs + beforeSeconds * 1000 - nowMs()));
        },
        async afterSends(generator) {
          // Everyone back (or 3 minutes), so the time until the last welcome is measured, not cut.
          const deadline = Date.now() + 180_000;
          for (;;) {
            const open = (await generator.progress()).reduce((a, p) => a + p.open, 0);
            if (open >= specs.length || Date.now() > deadline) break;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        },
        onCollected(stats, summary) {
          const reconnected = stats.reduce((a, s) => a + s.reconnected, 0);
          const lastWelcome = Math.max(...stats.map((s) => s.lastWelcomeMs));
          summary.clientsOnKilledGateway = clients;
          summary.reconnected = reconnected;
          summary.reconnectFailures = stats.reduce((a, s) => a + s.reconnectFailures, 0);
          summary.allBackAndCaughtUpSeconds = reconnected >= clients && killMs > 0 ? Math.round(lastWelcome - killMs) / 1000 : null;
        },
        log: ctx.log,
      });
      const step = result.steps[0]!;
      result.summary.lost = step.lost;
      result.summary.duplicates = step.duplicates;
      result.summary.p99Ms = step.latency.p99;
      return {
        parameters: { clients, rate, beforeSeconds, afterSeconds, workers, gateways: 2 },
        targets: [result],
        notes: result.summary.allBackAndCaughtUpSeconds === null ? [`only ${result.summary.reconnected} of ${clients} clients came back within ${afterSeconds} s + 3 min`] : [],
      };
    } finally {
      await cluster.stop();
    }
  },
};
