import type { LatencySummary } from '../metrics/histogram.ts';
import type { ProcUsage } from '../metrics/proc-stats.ts';

/** Whether the load generator itself kept up during a step, and why not. */
export interface GeneratorHealth {
  saturated: boolean;
  reasons: string[];
  /** Highest CPU of one generator process, % of one core. */
  cpuPercentMax: number;
  loopLagP99MaxMs: number;
  sendLagP99Ms: number;
}

/** One load level (a rate held for a while) against one target. */
export interface StepResult {
  index: number;
  /** Intended rate of the step (messages, requests or logins per second). */
  rate: number;
  durationSeconds: number;
  sent: number;
  sentRate: number;
  expected: number;
  /** Unique deliveries (duplicates excluded). */
  delivered: number;
  deliveredRate: number;
  duplicates: number;
  lost: number;
  skipped: number;
  errors: number;
  latency: LatencySummary;
  /** How late the generator sent, relative to the intended times. */
  sendLag: LatencySummary;
  /** CPU seconds of the target's own processes (gateways, API / Socket.IO servers). */
  appCpuSeconds: number;
  /** Plus Redis and MariaDB, which both targets lean on. */
  serverCpuSeconds: number;
  /** serverCpuSeconds per delivery, µs; the figure compared with the baseline. */
  serverCpuPerDeliveryUs: number;
  appCpuPerDeliveryUs: number;
  /** Frames written to clients: deliveries plus, on `/api/chat`, typing and read receipts. */
  framesDelivered?: number;
  /** serverCpuSeconds per frame written, µs (equals the per-delivery figure where every frame is a message). */
  serverCpuPerFrameUs?: number;
  /** What receiving and counting cost the generator per delivery, µs (message scenarios). */
  generatorCpuPerDeliveryUs?: number;
  machineBusyPercent: number;
  generator: GeneratorHealth;
  processes: ProcUsage[];
  /** Scenario-specific extras (per-query latencies, reconnect timings…). */
  extra?: Record<string, unknown>;
}

export interface TargetResult {
  /** `ours` (this cluster) or `baseline` (Socket.IO 4 + redis-adapter). */
  target: 'ours' | 'baseline';
  clients: number;
  connect?: { opened: number; failed: number; ms: number; settleMs?: number; errors: string[] };
  steps: StepResult[];
  /** Scenario figures for the report's headline (numbers, or null when not reached). */
  summary: Record<string, number | string | boolean | null>;
  /** Peak RSS per process over the whole target run, KiB. */
  peakRssKiB: Record<string, number>;
  closeCodes?: Record<string, number>;
  errorFrames?: Record<string, number>;
}

export interface RunResult {
  scenario: string;
  run: number;
  quick: boolean;
  startedAt: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  parameters: Record<string, unknown>;
  targets: TargetResult[];
  notes: string[];
}
