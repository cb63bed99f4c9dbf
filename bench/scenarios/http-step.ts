import type { LatencyHistogram } from '../metrics/histogram.ts';
import { round, type UsageWindow } from '../metrics/proc-stats.ts';
import type { SelfLoad } from '../loadgen/open-loop.ts';
import type { StepResult } from '../report/types.ts';
import { SATURATION } from './context.ts';

/** A step of an in-process, request-driven scenario (login, history) as a StepResult. */
export function requestStep(o: {
  index: number;
  label: string;
  rate: number;
  durationSeconds: number;
  started: number;
  completed: number;
  failed: number;
  latency: LatencyHistogram;
  sendLag: LatencyHistogram;
  self: SelfLoad;
  window: UsageWindow;
  extra?: Record<string, unknown>;
}): StepResult {
  const processes = o.window.processes;
  const app = processes.filter((p) => p.role === 'server').reduce((a, p) => a + p.cpuSeconds, 0);
  const backing = processes.filter((p) => p.role === 'backing').reduce((a, p) => a + p.cpuSeconds, 0);
  const sendLag = o.sendLag.summary();
  const reasons: string[] = [];
  if (o.self.cpuPercent > SATURATION.cpuPercent) reasons.push(`generator CPU ${o.self.cpuPercent}% > ${SATURATION.cpuPercent}%`);
  if (o.self.loopLagP99Ms > SATURATION.loopLagP99Ms) reasons.push(`generator event-loop lag p99 ${round(o.self.loopLagP99Ms)} ms`);
  if (sendLag.p99 > SATURATION.sendLagP99Ms) reasons.push(`requests left p99 ${sendLag.p99} ms late`);
  if (reasons.length > 0 && o.window.machineBusyPercent >= 95) reasons.push(`machine ${o.window.machineBusyPercent}% busy`);
  const perOp = (cpu: number) => (o.completed > 0 ? round((cpu / o.completed) * 1e6, 1) : NaN);
  return {
    index: o.index,
    rate: o.rate,
    durationSeconds: o.durationSeconds,
    sent: o.started,
    sentRate: round(o.started / o.durationSeconds, 1),
    expected: o.started,
    delivered: o.completed,
    deliveredRate: round(o.completed / o.durationSeconds, 1),
    duplicates: 0,
    lost: o.started - o.completed,
    skipped: 0,
    errors: o.failed,
    latency: o.latency.summary(),
    sendLag,
    appCpuSeconds: round(app, 3),
    serverCpuSeconds: round(app + backing, 3),
    serverCpuPerDeliveryUs: perOp(app + backing),
    appCpuPerDeliveryUs: perOp(app),
    machineBusyPercent: o.window.machineBusyPercent,
    generator: {
      saturated: reasons.length > 0,
      reasons,
      cpuPercentMax: o.self.cpuPercent,
      loopLagP99MaxMs: round(o.self.loopLagP99Ms),
      sendLagP99Ms: Number.isFinite(sendLag.p99) ? sendLag.p99 : 0,
    },
    processes,
    extra: { label: o.label, ...o.extra },
  };
}

/** POST JSON, answer parsed; throws on a network error. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json().catch(() => undefined) };
}
