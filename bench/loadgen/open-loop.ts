import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LatencyHistogram } from '../metrics/histogram.ts';

/** How the coordinating process itself fared while it generated a step (in-process scenarios). */
export interface SelfLoad {
  cpuPercent: number;
  loopLagP99Ms: number;
}

/**
 * In-process open-loop arrivals, for the HTTP scenarios: `fire(k, intendedMs)` starts arrival k at
 * its intended time, whether or not earlier ones have finished, and is never awaited before the
 * next; a late start is still made, and latency is counted from `intendedMs` by the caller.
 * Resolves once the last arrival has started; `settled` resolves once every one has finished (a
 * caller measuring resources per step reads them in between, so slow stragglers do not dilute them).
 */
export async function openLoop(options: {
  rate: number;
  durationMs: number;
  nowMs: () => number;
  fire: (k: number, intendedMs: number) => Promise<void>;
}): Promise<{ started: number; sendLag: LatencyHistogram; self: SelfLoad; settled: Promise<void> }> {
  const { rate, durationMs, nowMs, fire } = options;
  const sendLag = new LatencyHistogram();
  const inflight: Promise<void>[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const wall0 = nowMs();
  const start = wall0 + 20;
  const total = Math.floor((rate * durationMs) / 1000);
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (k < total) {
        const due = start + (k * 1000) / rate;
        if (due > now) {
          // Sleep rather than spin (see loadgen/worker.ts): lateness is counted, not hidden.
          setTimeout(tick, Math.max(1, Math.floor(due - now)));
          return;
        }
        sendLag.recordMs(now - due);
        inflight.push(fire(k, due).catch(() => {}));
        k += 1;
      }
      resolve();
    };
    tick();
  });
  const wall = nowMs() - wall0;
  const used = process.cpuUsage(cpu0);
  lag.disable();
  const self = { cpuPercent: Math.round(((used.user + used.system) / 1000 / Math.max(1, wall)) * 1000) / 10, loopLagP99Ms: lag.percentile(99) / 1e6 };
  return { started: k, sendLag, self, settled: Promise.all(inflight).then(() => {}) };
}
