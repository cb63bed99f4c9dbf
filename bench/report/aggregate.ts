import type { RunResult, StepResult, TargetResult } from './types.ts';

/** A step's figures as the median over runs (p99 near saturation varies 2–5× run to run). */
export interface MedianStep {
  index: number;
  label: string;
  /** Steps of one kind (register / login) form one line in the chart. */
  series: string;
  rate: number;
  deliveredRate: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** p99 of each run, to show the spread the median hides, and which runs were saturated. */
  p99Runs: number[];
  p99RunSaturated: boolean[];
  lost: number;
  errors: number;
  serverCpuPerDeliveryUs: number;
  appCpuPerDeliveryUs: number;
  generatorCpuPerDeliveryUs: number;
  machineBusyPercent: number;
  /** Runs in which the generator was saturated at this step. */
  saturatedRuns: number;
  runs: number;
  /** How many runs the medians are taken over (the unsaturated ones, when there are any). */
  medianOfRuns: number;
}

export interface MedianTarget {
  target: TargetResult['target'];
  steps: MedianStep[];
  summary: Record<string, number | string | boolean | null>;
  runs: number;
}

export interface ScenarioReport {
  scenario: string;
  runs: number;
  quick: boolean;
  machine: Record<string, unknown>;
  parameters: Record<string, unknown>;
  targets: MedianTarget[];
  notes: string[];
  files: string[];
}

export function median(values: number[]): number {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export function aggregate(results: RunResult[], files: string[]): ScenarioReport {
  const first = results[0]!;
  const names = [...new Set(results.flatMap((r) => r.targets.map((t) => t.target)))];
  const targets = names.map((name) => {
    const perRun = results.map((r) => r.targets.find((t) => t.target === name)).filter((t): t is TargetResult => t !== undefined);
    const indexes = [...new Set(perRun.flatMap((t) => t.steps.map((s) => s.index)))].sort((a, b) => a - b);
    const steps = indexes.map((index) => medianStep(perRun.map((t) => t.steps.find((s) => s.index === index)).filter((s): s is StepResult => s !== undefined)));
    const keys = [...new Set(perRun.flatMap((t) => Object.keys(t.summary)))];
    const summary: MedianTarget['summary'] = {};
    for (const key of keys) {
      const values = perRun.map((t) => t.summary[key]);
      const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      // Median over the runs that have the figure (a run whose generator was saturated has none).
      if (numbers.length > 0) summary[key] = round(median(numbers));
      else summary[key] = values.find((v) => typeof v === 'string' || typeof v === 'boolean') ?? null;
    }
    return { target: name, steps, summary, runs: perRun.length };
  });
  return {
    scenario: first.scenario,
    runs: results.length,
    quick: first.quick,
    machine: first.machine,
    parameters: first.parameters,
    targets,
    notes: [...new Set(results.flatMap((r) => r.notes.map((n) => (results.length > 1 ? `run ${r.run}: ${n}` : n))))],
    files,
  };
}

/**
 * Medians over the runs whose generator kept up at this step; only when none did, over all of them
 * (and the step stays flagged). A saturated run describes the generator, not the server.
 */
function medianStep(all: StepResult[]): MedianStep {
  const clean = all.filter((s) => !s.generator.saturated);
  const steps = clean.length > 0 ? clean : all;
  const m = (f: (s: StepResult) => number) => round(median(steps.map(f)));
  return {
    index: steps[0]!.index,
    label: String(steps[0]!.extra?.label ?? `${steps[0]!.rate}/s`),
    series: String(steps[0]!.extra?.kind ?? ''),
    rate: steps[0]!.rate,
    deliveredRate: m((s) => s.deliveredRate),
    p50: m((s) => s.latency.p50),
    p99: m((s) => s.latency.p99),
    p999: m((s) => s.latency.p999),
    max: m((s) => s.latency.max),
    p99Runs: all.map((s) => s.latency.p99),
    p99RunSaturated: all.map((s) => s.generator.saturated),
    lost: m((s) => s.lost),
    errors: m((s) => s.errors),
    serverCpuPerDeliveryUs: m((s) => s.serverCpuPerDeliveryUs),
    appCpuPerDeliveryUs: m((s) => s.appCpuPerDeliveryUs),
    generatorCpuPerDeliveryUs: m((s) => s.generatorCpuPerDeliveryUs ?? NaN),
    machineBusyPercent: m((s) => s.machineBusyPercent),
    saturatedRuns: all.filter((s) => s.generator.saturated).length,
    runs: all.length,
    medianOfRuns: steps.length,
  };
}

export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
