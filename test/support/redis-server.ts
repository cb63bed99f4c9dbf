import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freeEnginePort } from './engine-ports.ts';
import { freezeProcess, thawProcess } from './freeze-process.ts';

/**
 * A private `redis-server` child on its own port (test/support/engine-ports.ts), for tests that
 * must kill or freeze Redis without hurting other test files (they share the one on 6379). No
 * persistence: a restart starts empty, like a cache node that was replaced.
 */
export interface TestRedisServer {
  port: number;
  url: string;
  output: string[];
  /** The running server's pid (undefined while it is down). */
  readonly pid: number | undefined;
  /** Whether the server process is running now. */
  readonly running: boolean;
  /** SIGKILL: connections drop at once, nothing is saved. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`), resolving when it accepts connections. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers, as with a stalled VM. Resolves once stopped. */
  pause(): Promise<void>;
  /** SIGCONT after `pause`. */
  resume(): Promise<void>;
  /** Stops it for good (after the test; resumes it first if paused). */
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<TestRedisServer> {
  const port = await freeEnginePort();
  const output: string[] = [];
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    await untilRedisReady(proc, `redis-server on ${port}`, output);
  };

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const killWith = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || !alive()) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    // A stopped process acts on SIGKILL too, but let it run so nothing is left half-stopped.
    proc.kill('SIGCONT');
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    output,
    get pid() {
      return alive() ? child!.pid : undefined;
    },
    get running() {
      return alive();
    },
    kill: () => killWith('SIGKILL'),
    restart: launch,
    pause: async () => {
      if (alive()) await freezeProcess(child!.pid!);
    },
    resume: async () => {
      if (alive()) await thawProcess(child!.pid!);
    },
    stop: () => killWith('SIGKILL'),
  };
}

/**
 * Resolves once a `redis-server` child logs that it accepts connections, collecting its output
 * lines into `output`; rejects when it exits first or is not ready within 10 s.
 */
export function untilRedisReady(child: ChildProcess, label: string, output: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} not ready:\n${output.slice(-10).join('\n')}`)), 10_000);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        output.push(line);
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code}):\n${output.slice(-10).join('\n')}`));
    });
  });
}
