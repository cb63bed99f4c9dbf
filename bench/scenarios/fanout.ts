import { LatencyHistogram } from '../metrics/histogram.ts';
import { resetPeak, round, sampleProcess, startUsageWindow, type UsageWindow, type WatchedProcess } from '../metrics/proc-stats.ts';
import { LoadGenerator } from '../loadgen/coordinator.ts';
import type { ChatMix, ClientSpec, Protocol, WorkerStats } from '../loadgen/messages.ts';
import type { StepResult, TargetResult } from '../report/types.ts';
import { backingProcesses, generatorHealth } from './context.ts';

/** One target driven by stepped, open-loop message load: the engine behind group-fanout, big-room, private. */
export interface FanoutPlan {
  target: 'ours' | 'baseline';
  protocol: Protocol;
  clients: ClientSpec[];
  /** Sockets per room (index = ClientSpec.room). */
  roomSizes: number[];
  /** Client ids that send; each step's rate is split evenly between them. */
  senders: number[];
  /** Messages per second, one step each. */
  rates: number[];
  stepSeconds: number;
  warmupSeconds: number;
  payloadBytes: number;
  /** `chat` protocol: the inbox mix (private share, typing and read rates). */
  chat?: ChatMix;
  workers: number;
  /** The target's own processes (gateways and API, or the Socket.IO servers). */
  appProcesses: WatchedProcess[];
  connectConcurrency: number;
  /** Longest wait for one client's welcome. @default 60000 */
  connectTimeoutMs?: number;
  /** Longest wait for join notices to die down after connecting. @default 120000 */
  settleMaxMs?: number;
  /** Clients reconnect (with last_id, to their failover URLs) after an unexpected close. */
  reconnect?: boolean;
  /** Called once the step times are fixed, with the first step's start (ms since the epoch). */
  onScheduled?(firstStepMs: number, nowMs: () => number): void;
  /** Awaited after the last send, before stragglers are waited for (e.g. until everyone is back). */
  afterSends?(generator: LoadGenerator): Promise<void>;
  /** Called with the workers' raw figures before the result is built; may add to the summary. */
  onCollected?(stats: WorkerStats[], summary: TargetResult['summary']): void;
  log(line: string): void;
}

export async function runFanout(plan: FanoutPlan): Promise<TargetResult> {
  const epochNs = process.hrtime.bigint();
  const nowMs = () => Number(process.hrtime.bigint() - epochNs) / 1e6;
  const generator = await LoadGenerator.start({ workers: plan.workers, protocol: plan.protocol, epochNs, label: `gen-${plan.target}` });
  const watched = [...plan.appProcesses, ...backingProcesses(), ...generator.processes()];
  for (const p of plan.appProcesses) resetPeak(p.pid);
  try {
    plan.log(`  ${plan.target}: connecting ${plan.clients.length} clients over ${plan.workers} generator processes`);
    const connected = await generator.connect(plan.clients, {
      concurrency: plan.connectConcurrency,
      reconnect: plan.reconnect,
      timeoutMs: plan.connectTimeoutMs,
      onProgress: (open) => plan.log(`  ${plan.target}: ${open} of ${plan.clients.length} in the room so far`),
    });
    const settleStart = Date.now();
    // Join notices (one per user, to everyone already in the room) must die down before measuring.
    await generator.settle(1_000, plan.settleMaxMs ?? 120_000, 'otherFrames');
    const settleMs = Date.now() - settleStart;
    plan.log(
      `  ${plan.target}: ${connected.opened} open, ${connected.failed} failed (${connected.retried} attempts made again) in ${connected.ms} ms` +
        (connected.errors.length ? ` (${connected.errors[0]})` : '') +
        `; notices settled in ${settleMs} ms`,
    );
    if (connected.opened === 0) throw new Error(`no client could connect: ${connected.errors.join('; ')}`);
    const roomSizes = actualRoomSizes(plan, connected.failed);

    const stepMs = plan.stepSeconds * 1000;
    const t0 = nowMs() + 1_000;
    const steps = plan.rates.map((rate, index) => ({
      index,
      rate,
      startMs: t0 + index * stepMs,
      endMs: t0 + (index + 1) * stepMs,
      warmupMs: plan.warmupSeconds * 1000,
    }));
    const windows: Array<UsageWindow | undefined> = steps.map(() => undefined);
    const timers = steps.flatMap((step, i) => {
      let window: ReturnType<typeof startUsageWindow> | undefined;
      return [
        setTimeout(() => (window = startUsageWindow(watched)), Math.max(0, step.startMs - nowMs())),
        setTimeout(() => {
          windows[i] = window?.finish();
          plan.log(`  ${plan.target}: step ${i + 1}/${steps.length} (${step.rate} msg/s) done`);
        }, Math.max(0, step.endMs - nowMs())),
      ];
    });
    plan.onScheduled?.(t0, nowMs);
    await generator.run(steps, plan.senders, roomSizes, plan.payloadBytes, plan.chat);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, steps.at(-1)!.endMs - nowMs() + 50)));
    await plan.afterSends?.(generator);
    // Stragglers: wait until nothing has arrived for 1.5 s (at most 60 s). What has not arrived
    // by then counts as lost: for a chat, a message a minute late is as good as gone.
    await generator.settle(1_500, 60_000);
    timers.forEach(clearTimeout);
    const stats = await generator.collect();
    const failures = generator.failures();
    if (failures.length > 0) throw new Error(failures.join('; '));

    const results = steps.map((step, i) => stepResult(step.index, step.rate, plan.stepSeconds, stats, windows[i]));
    const peakRssKiB: Record<string, number> = {};
    for (const p of [...plan.appProcesses, ...generator.processes()]) peakRssKiB[p.name] = sampleProcess(p.pid)?.peakRssKiB ?? 0;
    const summary: TargetResult['summary'] = {};
    plan.onCollected?.(stats, summary);
    return {
      target: plan.target,
      clients: plan.clients.length,
      connect: { opened: connected.opened, failed: connected.failed, ms: connected.ms, settleMs, errors: connected.errors },
      steps: results,
      summary,
      peakRssKiB,
      closeCodes: mergeCounts(stats.map((s) => s.closeCodes)),
      errorFrames: mergeCounts(stats.map((s) => s.errorFrames)),
    };
  } finally {
    await generator.close();
  }
}

/** Rooms shrink by the clients that failed to connect; spread the shortfall over room 0 (group). */
function actualRoomSizes(plan: FanoutPlan, failed: number): number[] {
  const sizes = [...plan.roomSizes];
  if (failed > 0 && sizes.length === 1) sizes[0] = Math.max(0, sizes[0]! - failed);
  return sizes;
}

export function stepResult(index: number, rate: number, durationSeconds: number, stats: WorkerStats[], window: UsageWindow | undefined): StepResult {
  const mine = stats.map((s) => s.steps.find((x) => x.index === index)!).filter(Boolean);
  const sum = (f: (s: (typeof mine)[number]) => number) => mine.reduce((a, s) => a + f(s), 0);
  const sent = sum((s) => s.sent);
  const expected = sum((s) => s.expected);
  const received = sum((s) => s.received);
  const duplicates = sum((s) => s.duplicates);
  const delivered = received - duplicates;
  const latency = LatencyHistogram.merge(mine.map((s) => s.latency)).summary();
  const sendLag = LatencyHistogram.merge(mine.map((s) => s.sendLag)).summary();
  const processes = window?.processes ?? [];
  const app = processes.filter((p) => p.role === 'server' || p.role === 'baseline').reduce((a, p) => a + p.cpuSeconds, 0);
  const backing = processes.filter((p) => p.role === 'backing').reduce((a, p) => a + p.cpuSeconds, 0);
  const generatorCpu = processes.filter((p) => p.role === 'generator').reduce((a, p) => a + p.cpuSeconds, 0);
  const perDelivery = (cpu: number) => (delivered > 0 ? round((cpu / delivered) * 1e6, 3) : NaN);
  // `/api/chat` sockets also get typing and read receipts: frames written like messages, not stored.
  const framesDelivered = delivered + sum((s) => s.typingReceived ?? 0) + sum((s) => s.receiptsReceived ?? 0);
  return {
    index,
    rate,
    durationSeconds,
    sent,
    sentRate: round(sent / durationSeconds, 1),
    expected,
    delivered,
    deliveredRate: round(delivered / durationSeconds, 1),
    duplicates,
    lost: Math.max(0, expected - delivered),
    skipped: sum((s) => s.skipped),
    errors: 0,
    latency,
    sendLag,
    appCpuSeconds: round(app, 3),
    serverCpuSeconds: round(app + backing, 3),
    serverCpuPerDeliveryUs: perDelivery(app + backing),
    appCpuPerDeliveryUs: perDelivery(app),
    framesDelivered,
    serverCpuPerFrameUs: framesDelivered > 0 ? round(((app + backing) / framesDelivered) * 1e6, 3) : NaN,
    generatorCpuPerDeliveryUs: perDelivery(generatorCpu),
    machineBusyPercent: window?.machineBusyPercent ?? NaN,
    generator: generatorHealth(processes, mine.map((s) => s.loopLagP99), sendLag.p99, window?.machineBusyPercent),
    processes,
  };
}

function mergeCounts(all: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of all) for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + v;
  return out;
}
