import { cpus, loadavg, totalmem } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig, type Config } from '@im/config';
import { startBenchCluster, type BenchClusterOptions } from '../cluster.ts';
import { pidsByName, type WatchedProcess, type ProcUsage } from '../metrics/proc-stats.ts';
import type { GeneratorHealth, StepResult, TargetResult } from '../report/types.ts';

/** What a scenario gets from the command line. */
export interface ScenarioContext {
  quick: boolean;
  run: number;
  /** A running cluster to target instead of starting one (its front door or API URL). */
  url?: string;
  /** Generator processes. */
  workers?: number;
  /** Skip the Socket.IO baseline. */
  noBaseline: boolean;
  /** Scenario options from `--set key=value`. */
  options: Record<string, string>;
  log(line: string): void;
}

export interface ScenarioOutcome {
  parameters: Record<string, unknown>;
  targets: TargetResult[];
  notes: string[];
}

export interface Scenario {
  name: string;
  /** One line for --help and the README. */
  about: string;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
  /**
   * The chart: latency against delivered rate, latency per step (a list of different queries),
   * or none (nothing with a latency). @default 'rate'
   */
  chart?: 'rate' | 'steps' | false;
  /** Recomputes a target's headline from stored steps (`--report` on older JSON files). */
  summarize?(steps: StepResult[], parameters: Record<string, unknown>): TargetResult['summary'];
}

/** The cluster a scenario drives: one the bench started, or a running one (--url). */
export interface ClusterHandle {
  apiUrl: string;
  gatewayUrls: string[];
  databaseUrl: string;
  config: Config;
  /** The cluster's own processes (API, gateways, worker), for CPU and memory. */
  processes(): WatchedProcess[];
  /** Only for clusters the bench started. */
  killGateway?(index: number): void;
  stop(): Promise<void>;
}

export async function openCluster(ctx: ScenarioContext, options: BenchClusterOptions = {}): Promise<ClusterHandle> {
  if (ctx.url) {
    // A running cluster: users go into the database our config names (DATABASE_URL), tokens are
    // signed with its JWT_SECRET; its own limits apply. Its processes are found by command line.
    const config = loadConfig();
    const base = ctx.url.replace(/\/$/, '');
    return {
      apiUrl: base,
      gatewayUrls: [base],
      databaseUrl: config.mysql.url,
      config,
      processes: () => findClusterProcesses(),
      stop: async () => {},
    };
  }
  const cluster = await startBenchCluster(options);
  return {
    apiUrl: cluster.apiUrl,
    gatewayUrls: cluster.gatewayUrls,
    databaseUrl: cluster.databaseUrl,
    config: cluster.config,
    processes: () => cluster.processes(),
    killGateway: (i) => cluster.gateways[i]!.child.kill('SIGKILL'),
    stop: () => cluster.stop(),
  };
}

/** Redis and MariaDB: both targets use them, so their CPU counts as server CPU. */
export function backingProcesses(): WatchedProcess[] {
  const redis = pidsByName('redis-server').map((pid) => ({ name: 'redis', role: 'backing' as const, pid }));
  const mysql = pidsByName('mariadbd', 'mysqld').map((pid) => ({ name: 'mariadb', role: 'backing' as const, pid }));
  return [...redis, ...mysql];
}

function findClusterProcesses(): WatchedProcess[] {
  const found: WatchedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    const pid = Number(entry);
    if (cmdline.includes('apps/gateway/src/index.ts')) found.push({ name: `gw-pid${pid}`, role: 'server', pid });
    else if (cmdline.includes('apps/api/src/index.ts')) found.push({ name: 'api', role: 'server', pid });
    else if (cmdline.includes('front-door') || /^nginx: /.test(cmdline)) found.push({ name: `front-door-${pid}`, role: 'server', pid });
  }
  return found;
}

/** Thresholds past which a step's figures describe the generator, not the server. */
export const SATURATION = {
  /** One generator process's CPU, % of a core. */
  cpuPercent: 90,
  loopLagP99Ms: 50,
  sendLagP99Ms: 50,
} as const;

export function generatorHealth(usage: ProcUsage[], loopLagP99s: number[], sendLagP99Ms: number, machineBusyPercent?: number): GeneratorHealth {
  const cpuPercentMax = Math.max(0, ...usage.filter((p) => p.role === 'generator').map((p) => p.cpuPercent));
  const loopLagP99MaxMs = Math.max(0, ...loopLagP99s);
  const reasons: string[] = [];
  if (cpuPercentMax > SATURATION.cpuPercent) reasons.push(`generator CPU ${cpuPercentMax}% > ${SATURATION.cpuPercent}%`);
  if (loopLagP99MaxMs > SATURATION.loopLagP99Ms) reasons.push(`generator event-loop lag p99 ${loopLagP99MaxMs} ms > ${SATURATION.loopLagP99Ms} ms`);
  if (sendLagP99Ms > SATURATION.sendLagP99Ms) reasons.push(`sends left p99 ${sendLagP99Ms} ms late > ${SATURATION.sendLagP99Ms} ms`);
  // Lag without CPU of its own means the generator waited for a core: say the box was full.
  if (reasons.length > 0 && machineBusyPercent !== undefined && machineBusyPercent >= 95) reasons.push(`machine ${machineBusyPercent}% busy`);
  return { saturated: reasons.length > 0, reasons, cpuPercentMax, loopLagP99MaxMs, sendLagP99Ms: Number.isFinite(sendLagP99Ms) ? sendLagP99Ms : 0 };
}

export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    /** Load average when the run started: anything else busy on the box skews every figure. */
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    note: 'generator, cluster, Redis and MariaDB share this machine',
  };
}

/** `--set key=value` as a number, or the default. */
export function numberOption(ctx: ScenarioContext, key: string, fallback: number): number {
  const raw = ctx.options[key];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--set ${key}=${raw}: not a number`);
  return value;
}

export function listOption(ctx: ScenarioContext, key: string, fallback: number[]): number[] {
  const raw = ctx.options[key];
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`--set ${key}=${raw}: not a list of numbers`);
  return values;
}
