import { readFileSync } from 'node:fs';
import { fetchMetrics, metricValue } from './prometheus.ts';

/**
 * Where one process's memory is, from the kernel's view (/proc/<pid>/status and smaps) and from
 * V8's (the gateway's Prometheus metrics: process.memoryUsage() and v8.getHeapSpaceStatistics(),
 * as prom-client's default metrics report them). All in MiB.
 */
export interface MemorySample {
  rss: number;
  /** Anonymous memory: V8's heap, malloc's arenas, thread stacks. */
  anon: number;
  /** Mapped files: node's own code and libraries, shared with other node processes. */
  file: number;
  /** V8's heap as reserved and committed (all spaces), and what live objects use of it. */
  heapTotal: number;
  heapUsed: number;
  /** V8's young generation (semi-spaces): sized by traffic, collected often. */
  newSpace: number;
  /** Compiled code. */
  codeSpace: number;
  /** V8's old generation as used: what survived two collections (live objects, and garbage until the next full one). */
  oldSpaceUsed: number;
  /**
   * Memory outside V8's heap owned by JS objects: Buffers and ArrayBuffers (socket reads, frames).
   * Node allocates them with malloc, so they are part of the arenas below (or of mappings of
   * their own, past malloc's mmap threshold), not in addition to them.
   */
  external: number;
  /** glibc's main arena (the brk heap). */
  mainArena: number;
  /** glibc's other arenas (one per thread that malloc'd under contention, 64 MiB reserved each), resident. */
  threadArenas: number;
  arenaCount: number;
  /**
   * RSS that is neither mapped files, V8's heap (as committed: resident may be less, so this can
   * go negative) nor malloc's arenas: thread stacks, large malloc chunks mmapped on their own, V8's
   * own bookkeeping outside its heap.
   */
  other: number;
}

const MIB = 1024 * 1024;

/** Reads both views; the metrics come from `metricsUrl` (the gateway's /metrics). Undefined if the process is gone. */
export async function sampleMemory(pid: number, metricsUrl: string): Promise<MemorySample | undefined> {
  let status: string;
  let smaps: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const metrics = await fetchMetrics(metricsUrl);
  const metric = (name: string, label = '') => metricValue(metrics, name, label) / MIB;
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
  const arenas = mallocArenas(smaps);
  const sample = {
    rss: kib('VmRSS'),
    anon: kib('RssAnon'),
    file: kib('RssFile') + kib('RssShmem'),
    heapTotal: metric('nodejs_heap_size_total_bytes'),
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    newSpace: metric('nodejs_heap_space_size_total_bytes', 'space="new"'),
    codeSpace: metric('nodejs_heap_space_size_total_bytes', 'space="code"'),
    oldSpaceUsed: metric('nodejs_heap_space_size_used_bytes', 'space="old"'),
    external: metric('nodejs_external_memory_bytes'),
    mainArena: arenas.main,
    threadArenas: arenas.threads,
    arenaCount: arenas.count,
  };
  return { ...sample, other: sample.rss - sample.file - sample.heapTotal - sample.mainArena - sample.threadArenas };
}

/**
 * glibc's arenas from smaps: the main arena is the `[heap]` mapping; every other arena is a
 * "heap" of its own, an anonymous mapping at a 64 MiB boundary whose read-write part and the
 * inaccessible rest after it add up to exactly 64 MiB (HEAP_MAX_SIZE on 64-bit). V8 reserves its
 * regions in other sizes, so the pattern picks out malloc's. Resident MiB of each kind.
 */
function mallocArenas(smaps: string): { main: number; threads: number; count: number } {
  const mappings: Array<{ start: bigint; end: bigint; perms: string; name: string; rssKiB: number }> = [];
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      mappings.push({ start: BigInt(`0x${header[1]}`), end: BigInt(`0x${header[2]}`), perms: header[3]!, name: header[4]!.trim(), rssKiB: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && mappings.length > 0) mappings.at(-1)!.rssKiB = Number(rss[1]);
  }
  const HEAP_MAX = 64n * 1024n * 1024n;
  let main = 0;
  let threads = 0;
  let count = 0;
  for (const [i, m] of mappings.entries()) {
    if (m.name === '[heap]') main += m.rssKiB;
    if (m.name !== '' || !m.perms.startsWith('rw') || m.start % HEAP_MAX !== 0n) continue;
    const rest = mappings[i + 1];
    const size = m.end - m.start;
    const whole = rest && rest.name === '' && rest.perms.startsWith('---') && rest.start === m.end ? size + (rest.end - rest.start) : size;
    if (whole !== HEAP_MAX) continue;
    threads += m.rssKiB;
    count += 1;
  }
  return { main: main / 1024, threads: threads / 1024, count };
}
