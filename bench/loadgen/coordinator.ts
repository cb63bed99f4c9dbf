import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WatchedProcess } from '../metrics/proc-stats.ts';
import type { ChatMix, ClientSpec, Command, ConnectResult, Progress, Protocol, Reply, StepPlan, WorkerStats } from './messages.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface GeneratorOptions {
  /** Generator processes; each binds its sockets to 127.0.0.(2+k). */
  workers: number;
  protocol: Protocol;
  /** The run's shared clock origin (process.hrtime.bigint()). */
  epochNs: bigint;
  /** Prefix for process names in reports. @default 'gen' */
  label?: string;
}

export interface StepRequest {
  index: number;
  startMs: number;
  endMs: number;
  warmupMs: number;
  /** Messages per second, all workers together. */
  rate: number;
}

interface Worker {
  child: ChildProcess;
  index: number;
  waiting: Map<string, Array<(reply: Reply) => void>>;
  clientIds: Set<number>;
  failure?: string;
}

/**
 * Forks the generator processes and hands each a share of the clients and of every step's
 * send rate. One coordinator per target (our cluster, or the baseline).
 */
export class LoadGenerator {
  private constructor(
    private readonly workers: Worker[],
    readonly options: GeneratorOptions,
  ) {}

  static async start(options: GeneratorOptions): Promise<LoadGenerator> {
    const workers = Array.from({ length: options.workers }, (_, index) => {
      // `--profile DIR` (run.ts) profiles the generator too, to tell its costs from the server's.
      const profileDir = process.env.BENCH_PROFILE_DIR;
      const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/loadgen-${index}`] : [];
      const child = fork(WORKER, [], { execArgv: [...profile, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const worker: Worker = { child, index, waiting: new Map(), clientIds: new Set() };
      child.on('message', (reply: Reply) => {
        if (reply.type === 'error') {
          worker.failure = reply.message;
          process.stderr.write(`bench: generator ${index} failed: ${reply.message}\n`);
          return;
        }
        const queue = worker.waiting.get(reply.type);
        queue?.shift()?.(reply);
      });
      child.on('exit', (code) => {
        if (code !== 0 && code !== null) worker.failure ??= `exited with code ${code}`;
      });
      return worker;
    });
    const generator = new LoadGenerator(workers, options);
    workers.forEach((w) =>
      generator.send(w, { type: 'init', epochNs: String(options.epochNs), protocol: options.protocol, localAddress: sourceAddress(w.index), workerIndex: w.index }),
    );
    return generator;
  }

  get size(): number {
    return this.workers.length;
  }

  processes(): WatchedProcess[] {
    const label = this.options.label ?? 'gen';
    return this.workers.map((w) => ({ name: `${label}-${w.index}`, role: 'generator' as const, pid: w.child.pid! }));
  }

  /** Spreads the clients over the workers (client i to worker i mod n) and connects them. */
  async connect(
    specs: ClientSpec[],
    options: { concurrency: number; timeoutMs?: number; reconnect?: boolean; onProgress?: (open: number) => void },
  ): Promise<ConnectResult> {
    const shares = this.workers.map(() => [] as ClientSpec[]);
    specs.forEach((spec, i) => {
      const share = i % this.workers.length;
      shares[share]!.push(spec);
      this.workers[share]!.clientIds.add(spec.id);
    });
    const perWorker = Math.max(1, Math.ceil(options.concurrency / this.workers.length));
    // Long connects (join notices are N² in a room) report how far they got every 15 s.
    const ticker = options.onProgress
      ? setInterval(() => {
          this.progress().then(
            (all) => options.onProgress!(sum(all.map((p) => p.open))),
            () => {},
          );
        }, 15_000)
      : undefined;
    const results = await Promise.all(
      this.workers.map((w, i) =>
        this.request<ConnectResult>(w, {
          type: 'connect',
          clients: shares[i]!,
          concurrency: perWorker,
          timeoutMs: options.timeoutMs ?? 60_000,
          reconnect: options.reconnect ?? false,
        }, 'connected'),
      ),
    ).finally(() => clearInterval(ticker));
    return {
      type: 'connected',
      opened: sum(results.map((r) => r.opened)),
      failed: sum(results.map((r) => r.failed)),
      retried: sum(results.map((r) => r.retried)),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      ms: Math.max(...results.map((r) => r.ms)),
    };
  }

  /**
   * Starts the open-loop schedule: each worker sends its senders' share of every step's rate.
   * Resolves when every worker has sent its last message (not when they arrived).
   */
  async run(steps: StepRequest[], senderIds: number[], roomSizes: number[], payloadBytes: number, chat?: ChatMix): Promise<void> {
    const total = senderIds.length || 1;
    await Promise.all(
      this.workers.map((w) => {
        const mine = senderIds.filter((id) => w.clientIds.has(id));
        const plans: StepPlan[] = steps.map((s) => ({ ...s, rate: (s.rate * mine.length) / total }));
        return this.request(w, {
          type: 'run',
          steps: plans,
          senders: mine,
          roomSizes,
          payloadBytes,
          phase: w.index / this.workers.length,
          // Typing and read rates split by the worker's share of the senders, like the messages.
          chat: chat && { ...chat, typingRate: (chat.typingRate * mine.length) / total, readRate: (chat.readRate * mine.length) / total },
        }, 'ran');
      }),
    );
  }

  progress(): Promise<Progress[]> {
    return Promise.all(this.workers.map((w) => this.request<Progress>(w, { type: 'progress' })));
  }

  collect(): Promise<WorkerStats[]> {
    return Promise.all(this.workers.map((w) => this.request<WorkerStats>(w, { type: 'collect' }, 'stats')));
  }

  /**
   * Waits until arrivals stop: the received count has not moved for `quietMs` (or `maxMs` passed).
   * Used after the last send (stragglers) and after connecting (join notices settling).
   */
  async settle(quietMs: number, maxMs: number, what: 'received' | 'otherFrames' = 'received'): Promise<void> {
    const deadline = Date.now() + maxMs;
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      const now = sum((await this.progress()).map((p) => p[what]));
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= quietMs) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  failures(): string[] {
    return this.workers.flatMap((w) => (w.failure ? [`generator ${w.index}: ${w.failure}`] : []));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.child.exitCode !== null || !w.child.connected) return;
        const exited = new Promise((resolve) => w.child.once('exit', resolve));
        await Promise.race([this.request(w, { type: 'close' }, 'closed'), delay(5_000)]);
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private send(worker: Worker, command: Command): void {
    worker.child.send(command);
  }

  private request<T extends Reply>(worker: Worker, command: Command, replyType: string = command.type): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (worker.failure) return reject(new Error(`generator ${worker.index}: ${worker.failure}`));
      const queue = worker.waiting.get(replyType) ?? [];
      worker.waiting.set(replyType, queue);
      const onExit = () => reject(new Error(`generator ${worker.index} exited: ${worker.failure ?? 'no reason given'}`));
      worker.child.once('exit', onExit);
      queue.push((reply) => {
        worker.child.off('exit', onExit);
        resolve(reply as T);
      });
      this.send(worker, command);
    });
  }
}

/** Source address of worker k: 127.0.0.2, .3, …, each with its own ~28k ephemeral ports. */
export function sourceAddress(index: number): string {
  return `127.0.0.${2 + (index % 250)}`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
