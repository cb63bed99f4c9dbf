import { sampleMemory, type MemorySample } from '../metrics/memory.ts';
import { round } from '../metrics/proc-stats.ts';
import type { ClientSpec } from '../loadgen/messages.ts';
import { chatUrl, createUsers } from '../users.ts';
import { numberOption, openCluster, type Scenario } from './context.ts';
import { runFanout } from './fanout.ts';

interface Timed {
  /** Seconds since the load started (negative: before). */
  at: number;
  phase: 'idle' | 'connected' | 'load' | 'end';
  gateway: string;
  memory: MemorySample;
}

/**
 * Steady chat for a long time (500 group clients over 2 gateways, 50 msg/s, 30 minutes by
 * default) while each gateway's memory is sampled: RSS and where it is (V8's heap and young
 * generation, Buffers, glibc's arenas, mapped code). Answers "does it level off, where, and what
 * is it made of" (README "Gateway memory"). `--set malloc-arena-max=2` runs the gateways with
 * MALLOC_ARENA_MAX to compare.
 */
export const soak: Scenario = {
  name: 'soak',
  chart: false,
  about: '500 group clients over 2 gateways at 50 msg/s for 30 min: each gateway\'s RSS over time and what it is made of (V8 heap, Buffers, malloc arenas)',
  async run(ctx) {
    if (ctx.url) throw new Error('soak: reads the gateways\' /proc, so it needs a cluster it starts (no --url)');
    const minutes = numberOption(ctx, 'minutes', ctx.quick ? 0.5 : 30);
    const clients = numberOption(ctx, 'clients', ctx.quick ? 40 : 500);
    const rate = numberOption(ctx, 'rate', ctx.quick ? 10 : 50);
    const senders = Math.min(clients, numberOption(ctx, 'senders', 100));
    const sampleSeconds = numberOption(ctx, 'sample-seconds', minutes <= 10 ? 10 : 30);
    const arenaMax = ctx.options['malloc-arena-max'];
    // The catch-up buffer is what fills up under steady traffic (README "Gateway memory"): 0 turns it off.
    const catchupBytes = ctx.options['catchup-buffer-bytes'] === undefined ? undefined : numberOption(ctx, 'catchup-buffer-bytes', 0);
    const workers = ctx.workers ?? 2;
    const cluster = await openCluster(ctx, {
      gateways: 2,
      env: arenaMax ? { MALLOC_ARENA_MAX: arenaMax } : {},
      settings: catchupBytes === undefined ? {} : { gateway: { catchup_buffer_bytes: catchupBytes } },
    });
    const gateways = cluster.processes().filter((p) => p.name.startsWith('gw'));
    const samples: Timed[] = [];
    let loadStartMs: number | undefined;
    const sampleAll = async (phase: Timed['phase']) => {
      const at = loadStartMs === undefined ? 0 : round((Date.now() - loadStartMs) / 1000, 0);
      for (const [i, gateway] of gateways.entries()) {
        const memory = await sampleMemory(gateway.pid, `${cluster.gatewayUrls[i]}/metrics`);
        if (!memory) continue;
        samples.push({ at, phase, gateway: gateway.name, memory });
        ctx.log(`  ${phase.padEnd(9)} ${String(at).padStart(5)} s ${gateway.name}: ${describe(memory)}`);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const variant = `${arenaMax ? `, MALLOC_ARENA_MAX=${arenaMax}` : ''}${catchupBytes === undefined ? '' : `, catchup_buffer_bytes=${catchupBytes}`}`;
      ctx.log(`  soak: ${clients} clients, ${rate} msg/s for ${minutes} min${variant}`);
      const users = await createUsers(cluster.databaseUrl, cluster.config, clients);
      const specs: ClientSpec[] = users.map((u, i) => ({ id: i, room: 0, url: chatUrl(cluster.gatewayUrls[Math.floor(i / workers) % 2]!, u) }));
      await sampleAll('idle');
      const target = await runFanout({
        target: 'ours',
        protocol: 'im',
        clients: specs,
        roomSizes: [specs.length],
        senders: Array.from({ length: senders }, (_, i) => i),
        rates: [rate],
        stepSeconds: minutes * 60,
        warmupSeconds: 5,
        payloadBytes: 100,
        workers,
        appProcesses: cluster.processes(),
        connectConcurrency: 200,
        onScheduled: (firstStepMs, nowMs) => {
          loadStartMs = Date.now() + (firstStepMs - nowMs());
          void sampleAll('connected');
          timer = setInterval(() => void sampleAll('load'), sampleSeconds * 1000);
        },
        log: ctx.log,
      });
      clearInterval(timer);
      await sampleAll('end');
      const figures = gateways.map((g) => summarize(samples.filter((s) => s.gateway === g.name), clients / gateways.length));
      ctx.log(table(gateways.map((g) => g.name), figures));
      target.summary = {
        ...target.summary,
        minutes,
        mallocArenaMax: arenaMax ?? 'default',
        catchupBufferBytes: catchupBytes ?? cluster.config.gateway.catchup_buffer_bytes,
        ...Object.fromEntries(gateways.flatMap((g, i) => Object.entries(figures[i]!).map(([k, v]) => [`${g.name}.${k}`, v]))),
      };
      target.steps[0]!.extra = { label: `soak ${minutes} min`, samples };
      return {
        parameters: { clients, rate, senders, minutes, sampleSeconds, mallocArenaMax: arenaMax ?? null, catchupBufferBytes: catchupBytes ?? null, workers, gateways: 2 },
        targets: [target],
        notes: [],
      };
    } finally {
      clearInterval(timer);
      await cluster.stop();
    }
  },
};

/** The headline figures of one gateway's samples, in MiB (KiB per connection). */
function summarize(samples: Timed[], clientsHere: number): Record<string, number> {
  const idle = samples.find((s) => s.phase === 'idle')?.memory;
  const connected = samples.find((s) => s.phase === 'connected')?.memory;
  const load = samples.filter((s) => s.phase === 'load' || s.phase === 'end');
  const last = load.at(-1)?.memory;
  if (!idle || !connected || !last) return {};
  // "Flat after warm-up": how much RSS moved over the last third of the run.
  const tail = load.slice(Math.floor((load.length * 2) / 3)).map((s) => s.memory.rss);
  const delta = (key: keyof MemorySample) => round(last[key] - connected[key], 1);
  return {
    idleRssMiB: round(idle.rss, 1),
    perConnectionKiB: round(((connected.rss - idle.rss) * 1024) / clientsHere, 1),
    connectedRssMiB: round(connected.rss, 1),
    maxRssMiB: round(Math.max(...load.map((s) => s.memory.rss)), 1),
    endRssMiB: round(last.rss, 1),
    growthMiB: delta('rss'),
    lastThirdRangeMiB: round(Math.max(...tail) - Math.min(...tail), 1),
    growthHeapTotalMiB: delta('heapTotal'),
    growthNewSpaceMiB: delta('newSpace'),
    growthExternalMiB: delta('external'),
    growthMainArenaMiB: delta('mainArena'),
    growthThreadArenasMiB: delta('threadArenas'),
    growthFileMiB: delta('file'),
    growthOtherMiB: delta('other'),
    arenas: last.arenaCount,
  };
}

function describe(m: MemorySample): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '?');
  return (
    `rss ${f(m.rss)} = heap ${f(m.heapTotal)} (used ${f(m.heapUsed)}, young ${f(m.newSpace)}, code ${f(m.codeSpace)})` +
    ` + malloc main ${f(m.mainArena)} + ${m.arenaCount} arenas ${f(m.threadArenas)} (Buffers in them ${f(m.external)}) + files ${f(m.file)} + other ${f(m.other)} MiB`
  );
}

function table(names: string[], figures: Array<Record<string, number>>): string {
  const keys = Object.keys(figures[0] ?? {});
  const rows = keys.map((k) => `| ${k} | ${figures.map((f) => f[k] ?? '').join(' | ')} |`);
  return ['', `| figure | ${names.join(' | ')} |`, `| --- | ${names.map(() => '---').join(' | ')} |`, ...rows, ''].join('\n');
}
