import type { ClientSpec } from '../loadgen/messages.ts';
import { LoadGenerator } from '../loadgen/coordinator.ts';
import { LatencyHistogram } from '../metrics/histogram.ts';
import { resetPeak, round, sampleProcess, startUsageWindow } from '../metrics/proc-stats.ts';
import type { StepResult } from '../report/types.ts';
import { chatUrl, createUsers } from '../users.ts';
import { backingProcesses, generatorHealth, numberOption, openCluster, type Scenario } from './context.ts';

/**
 * Idle clients held open (the gateways ping every heartbeat_ms, the clients answer) for ten
 * minutes. Measured: how many are still open at the end, unexpected closes (by code), and the
 * gateways' RSS growth per connection.
 *
 * By default the clients are private pairs (the two sides on different gateways): in the group
 * room every connect sends a join notice to everyone already there, N²/2 frames in all (720
 * million for 38,000), which would measure the notices rather than held connections.
 * `--set room=group` holds them in the group anyway.
 */
export const connections: Scenario = {
  name: 'connections',
  chart: false,
  about: 'idle clients (private pairs by default) with heartbeats held for 10 min: held, unexpected closes, RSS per connection',
  async run(ctx) {
    const count = numberOption(ctx, 'clients', ctx.quick ? 200 : 38_000);
    const holdSeconds = numberOption(ctx, 'hold-seconds', ctx.quick ? 5 : 600);
    const room = ctx.options.room === 'group' ? 'group' : 'private';
    const workers = ctx.workers ?? (ctx.quick ? 2 : 4);
    const cluster = await openCluster(ctx, { gateways: 2 });
    const epochNs = process.hrtime.bigint();
    const generator = await LoadGenerator.start({ workers, protocol: 'im', epochNs, label: 'gen-ours' });
    try {
      ctx.log(`  ours: creating ${count} users`);
      const users = await createUsers(cluster.databaseUrl, cluster.config, count);
      const gateways = cluster.processes().filter((p) => p.name.startsWith('gw'));
      const specs: ClientSpec[] = users.map((u, i) => {
        const gateway = cluster.gatewayUrls[(room === 'group' ? Math.floor(i / workers) : i) % cluster.gatewayUrls.length]!;
        const peer = users[i ^ 1];
        return { id: i, room: room === 'group' ? 0 : i >> 1, url: room === 'group' || !peer ? chatUrl(gateway, u) : chatUrl(gateway, u, peer) };
      });
      for (const g of gateways) resetPeak(g.pid);
      const rssBefore = new Map(gateways.map((g) => [g.pid, sampleProcess(g.pid)?.rssKiB ?? 0]));
      ctx.log(`  ours: connecting ${count} clients (${room}) over ${workers} generator processes`);
      const connected = await generator.connect(specs, {
        concurrency: 400,
        timeoutMs: 120_000,
        onProgress: (open) => ctx.log(`  ours: ${open} of ${count} open so far`),
      });
      await generator.settle(1_000, 600_000, 'otherFrames');
      ctx.log(`  ours: ${connected.opened} open, ${connected.failed} failed in ${connected.ms} ms; holding ${holdSeconds} s`);
      await generator.collect(); // resets the generators' loop-lag figures: the hold is measured alone

      const watched = [...cluster.processes(), ...backingProcesses(), ...generator.processes()];
      const window = startUsageWindow(watched);
      const holdUntil = Date.now() + holdSeconds * 1000;
      while (Date.now() < holdUntil) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, holdUntil - Date.now())));
        const open = (await generator.progress()).reduce((a, p) => a + p.open, 0);
        ctx.log(`  ours: ${open} open, ${Math.round((holdUntil - Date.now()) / 1000)} s to go`);
      }
      const usage = window.finish();
      const stats = await generator.collect();
      const held = stats.reduce((a, s) => a + s.open, 0);
      const unexpected = stats.reduce((a, s) => a + s.unexpectedCloses, 0);
      const rssAfter = gateways.map((g) => sampleProcess(g.pid));
      const grown = gateways.reduce((a, g, i) => a + ((rssAfter[i]?.rssKiB ?? 0) - (rssBefore.get(g.pid) ?? 0)), 0);
      const peak = rssAfter.reduce((a, s) => a + (s?.peakRssKiB ?? 0), 0);
      const closeCodes: Record<string, number> = {};
      for (const s of stats) for (const [k, v] of Object.entries(s.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v;
      const app = usage.processes.filter((p) => p.role === 'server').reduce((a, p) => a + p.cpuSeconds, 0);
      const backing = usage.processes.filter((p) => p.role === 'backing').reduce((a, p) => a + p.cpuSeconds, 0);
      const empty = new LatencyHistogram().summary();
      const step: StepResult = {
        index: 0,
        rate: count,
        durationSeconds: holdSeconds,
        sent: 0,
        sentRate: 0,
        expected: count,
        delivered: held,
        deliveredRate: held,
        duplicates: 0,
        lost: count - held,
        skipped: 0,
        errors: unexpected,
        latency: empty,
        sendLag: empty,
        appCpuSeconds: round(app, 3),
        serverCpuSeconds: round(app + backing, 3),
        serverCpuPerDeliveryUs: NaN,
        appCpuPerDeliveryUs: NaN,
        machineBusyPercent: usage.machineBusyPercent,
        generator: generatorHealth(usage.processes, stats.map((s) => s.idleLoopLagP99), 0),
        processes: usage.processes,
        extra: { label: `hold ${count}`, connectMs: connected.ms, connectFailed: connected.failed, closeCodes, gatewayRssGrowthKiB: grown },
      };
      return {
        parameters: { clients: count, holdSeconds, room, workers, gateways: 2, heartbeatMs: cluster.config.gateway.heartbeat_ms },
        targets: [
          {
            target: 'ours',
            clients: count,
            connect: { opened: connected.opened, failed: connected.failed, ms: connected.ms, errors: connected.errors },
            steps: [step],
            summary: {
              held,
              unexpectedCloses: unexpected,
              connectSeconds: connected.ms / 1000,
              rssPerConnectionKiB: held > 0 ? round(grown / held, 2) : null,
              gatewayPeakRssMiB: round(peak / 1024, 1),
              gatewayCpuPercentWhileIdle: round(usage.processes.filter((p) => p.name.startsWith('gw')).reduce((a, p) => a + p.cpuPercent, 0), 1),
            },
            peakRssKiB: Object.fromEntries(gateways.map((g, i) => [g.name, rssAfter[i]?.peakRssKiB ?? 0])),
            closeCodes,
          },
        ],
        notes: connected.failed > 0 ? [`${connected.failed} clients could not connect: ${connected.errors.join('; ')}`] : [],
      };
    } finally {
      await generator.close();
      await cluster.stop();
    }
  },
};
