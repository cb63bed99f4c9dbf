import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run). */
const TICKS_PER_SECOND = 100;

/** One process the run watches: who it is and what it used. */
export interface WatchedProcess {
  name: string;
  /** `server` counts towards server CPU per delivery; `generator` towards generator load. */
  role: 'server' | 'backing' | 'generator' | 'baseline';
  pid: number;
}

export interface ProcSample {
  /** CPU seconds (user + system) since the process started. */
  cpuSeconds: number;
  rssKiB: number;
  /** Peak RSS (VmHWM) since start or since the last `resetPeak`. */
  peakRssKiB: number;
}

/** Reads utime+stime and RSS of `pid`; undefined when the process is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces: it ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      cpuSeconds: (utime + stime) / TICKS_PER_SECOND,
      rssKiB: kib(status, 'VmRSS'),
      peakRssKiB: kib(status, 'VmHWM'),
    };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM (needs to own the process or be root); ignored where the kernel refuses. */
export function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not allowed: the peak then counts from process start
  }
}

function kib(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** Pids of running programs whose comm is `name` (redis-server, mariadbd). */
export function pidsByName(...names: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Whole-machine CPU: busy and total jiffies from /proc/stat, for "how busy was the box". */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** CPU and memory of a set of processes between two moments. */
export interface ProcUsage {
  name: string;
  role: WatchedProcess['role'];
  pid: number;
  cpuSeconds: number;
  /** CPU seconds per wall second × 100: 100 = one core busy. */
  cpuPercent: number;
  rssKiB: number;
  peakRssKiB: number;
}

export interface UsageWindow {
  wallSeconds: number;
  /** Busy share of all cores, 0–100. */
  machineBusyPercent: number;
  processes: ProcUsage[];
}

/** Snapshot now; `finish()` later gives each process's CPU in between and its peak RSS. */
export function startUsageWindow(processes: WatchedProcess[]): { finish(): UsageWindow } {
  const startedAt = process.hrtime.bigint();
  const machine0 = machineCpu();
  const before = new Map(processes.map((p) => [p.pid, sampleProcess(p.pid)]));
  return {
    finish() {
      const wallSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const machine1 = machineCpu();
      const total = machine1.total - machine0.total;
      const usage = processes.map((p) => {
        const a = before.get(p.pid);
        const b = sampleProcess(p.pid);
        const cpuSeconds = a && b ? b.cpuSeconds - a.cpuSeconds : 0;
        return {
          name: p.name,
          role: p.role,
          pid: p.pid,
          cpuSeconds: round(cpuSeconds, 3),
          cpuPercent: round((cpuSeconds / wallSeconds) * 100, 1),
          rssKiB: b?.rssKiB ?? a?.rssKiB ?? 0,
          peakRssKiB: b?.peakRssKiB ?? a?.peakRssKiB ?? 0,
        };
      });
      return {
        wallSeconds: round(wallSeconds, 3),
        machineBusyPercent: total > 0 ? round(((machine1.busy - machine0.busy) / total) * 100, 1) : 0,
        processes: usage,
      };
    },
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
