import { startBaseline } from '../baseline/start.ts';
import type { ClientSpec } from '../loadgen/messages.ts';
import type { StepResult, TargetResult } from '../report/types.ts';
import { chatUrl, createUsers } from '../users.ts';
import { openCluster, type ScenarioContext, type ScenarioOutcome } from './context.ts';
import { runFanout } from './fanout.ts';

export interface RoomFanoutOptions {
  clients: number;
  senders: number;
  rates: number[];
  stepSeconds: number;
  warmupSeconds: number;
  payloadBytes: number;
  workers: number;
  /** p99 bar for "deliveries/s at p99 < bar". */
  p99BarMs: number;
  /**
   * Longest wait for a welcome, and for the join notices to die down after connecting: each join
   * goes to everyone already in the room (N²/2 frames), minutes for 10,000 clients.
   * @default 60000 and 120000
   */
  connectTimeoutMs?: number;
  settleMaxMs?: number;
}

/**
 * Everyone in the one group room, spread over two gateways (and, for the baseline, two Socket.IO
 * processes); `senders` of them send, stepping through `rates`. Each message is delivered to every
 * client, the sender included (its echo is the acknowledgement).
 */
export async function roomFanout(ctx: ScenarioContext, o: RoomFanoutOptions): Promise<ScenarioOutcome> {
  const targets: TargetResult[] = [];
  const notes: string[] = [];
  const senders = Array.from({ length: Math.min(o.senders, o.clients) }, (_, i) => i);
  // Gateway by (i / workers) so every generator process holds clients of every gateway.
  const gatewayOf = (i: number, count: number) => Math.floor(i / o.workers) % count;

  const cluster = await openCluster(ctx, { gateways: 2 });
  try {
    ctx.log(`  ours: creating ${o.clients} users`);
    const users = await createUsers(cluster.databaseUrl, cluster.config, o.clients);
    const clients: ClientSpec[] = users.map((u, i) => ({ id: i, room: 0, url: chatUrl(cluster.gatewayUrls[gatewayOf(i, cluster.gatewayUrls.length)]!, u) }));
    targets.push(
      await runFanout({
        target: 'ours',
        protocol: 'im',
        clients,
        roomSizes: [clients.length],
        senders,
        rates: o.rates,
        stepSeconds: o.stepSeconds,
        warmupSeconds: o.warmupSeconds,
        payloadBytes: o.payloadBytes,
        workers: o.workers,
        appProcesses: cluster.processes(),
        connectConcurrency: 200,
        connectTimeoutMs: o.connectTimeoutMs,
        settleMaxMs: o.settleMaxMs,
        log: ctx.log,
      }),
    );
  } finally {
    await cluster.stop();
  }

  if (!ctx.noBaseline) {
    const baseline = await startBaseline(cluster.config.redis.url, 2);
    try {
      const clients: ClientSpec[] = Array.from({ length: o.clients }, (_, i) => ({ id: i, room: 0, url: baseline.urls[gatewayOf(i, baseline.urls.length)]! }));
      targets.push(
        await runFanout({
          target: 'baseline',
          protocol: 'sio',
          clients,
          roomSizes: [clients.length],
          senders,
          rates: o.rates,
          stepSeconds: o.stepSeconds,
          warmupSeconds: o.warmupSeconds,
          payloadBytes: o.payloadBytes,
          workers: o.workers,
          appProcesses: baseline.processes(),
          connectConcurrency: 200,
          connectTimeoutMs: o.connectTimeoutMs,
          settleMaxMs: o.settleMaxMs,
          log: ctx.log,
        }),
      );
    } finally {
      await baseline.stop();
    }
  }

  for (const t of targets) t.summary = { ...fanoutSummary(t.steps, o.p99BarMs), ...t.summary };
  for (const t of targets) {
    const saturated = t.steps.filter((s) => s.generator.saturated);
    if (saturated.length > 0) {
      notes.push(`${t.target}: generator saturated at ${saturated.map((s) => `${s.rate} msg/s`).join(', ')} (${saturated[0]!.generator.reasons.join('; ')}): those steps show the generator's limit, not the server's`);
    }
  }
  for (const t of targets) {
    // Not the generator's saturation, but worth knowing: with every core busy, the server's
    // latency includes waiting for a core the generator holds.
    const full = t.steps.filter((s) => !s.generator.saturated && s.machineBusyPercent >= 95);
    if (full.length > 0) {
      const share = (s: StepResult) => Math.round(s.processes.filter((p) => p.role === 'generator').reduce((a, p) => a + p.cpuPercent, 0));
      notes.push(`${t.target}: machine ≥ 95% busy at ${full.map((s) => `${s.rate} msg/s (generator ${share(s)}% of a core)`).join(', ')}: server and generator compete for the same cores there`);
    }
  }
  return {
    parameters: { ...o, gateways: 2, baselineProcesses: ctx.noBaseline ? 0 : 2 },
    targets,
    notes,
  };
}

/**
 * The headline figures of a stepped run: the best delivered rate whose p99 stayed under the bar
 * with nothing lost and the generator not saturated, and CPU per delivery over the clean steps.
 */
export function fanoutSummary(steps: StepResult[], p99BarMs: number): Record<string, number | null> {
  const clean = steps.filter((s) => !s.generator.saturated && s.delivered > 0);
  const good = clean.filter((s) => s.latency.p99 < p99BarMs && s.lost === 0);
  const best = good.reduce<StepResult | undefined>((a, s) => (!a || s.deliveredRate > a.deliveredRate ? s : a), undefined);
  // Only steps the generator kept up with speak for the server; none → no figure.
  const cpu = clean.reduce((a, s) => a + s.serverCpuSeconds, 0);
  const appCpu = clean.reduce((a, s) => a + s.appCpuSeconds, 0);
  const delivered = clean.reduce((a, s) => a + s.delivered, 0);
  return {
    // 0: measured, and no step met the bar; null: every step was the generator's limit.
    [`deliveriesPerSecondAtP99Under${p99BarMs}ms`]: best?.deliveredRate ?? (clean.length > 0 ? 0 : null),
    serverCpuPerDeliveryUs: delivered > 0 ? Math.round((cpu / delivered) * 1e9) / 1e3 : null,
    appCpuPerDeliveryUs: delivered > 0 ? Math.round((appCpu / delivered) * 1e9) / 1e3 : null,
    firstStepP99Ms: steps[0] && !steps[0].generator.saturated ? steps[0].latency.p99 : null,
    lost: steps.reduce((a, s) => a + s.lost, 0),
    saturatedSteps: steps.filter((s) => s.generator.saturated).length,
  };
}
